// sdrcast_loopback: a SoapySDR device whose TX stream feeds its RX stream through a ring buffer.
//
// Device args:  driver=sdrcast_loopback  loop=NAME (devices opened with the same loop name share
//               one ring, in this process or any other of the same user: the ring lives in POSIX
//               shared memory /sdrcast_loopback_UID_NAME, which keeps the samples of an
//               unpaced writer that exits before any reader opened the loop; default "default")  pace=1 (real-time
//               pacing at the sample rate)  buffer=N (ring size in samples, default 1048576; the
//               first device of a loop sets it).
// Formats: CF32 and CS16 (full scale 32768) on both directions; one channel each way.
// Unpaced (default): RX blocks until samples are there (SOAPY_SDR_TIMEOUT after timeoutUs), TX
//   blocks until there is room (SOAPY_SDR_TIMEOUT).  Nothing is lost.
// Paced: like two radios. TX takes samples at the sample rate, blocking like a real radio's TX
//   (SOAPY_SDR_TIMEOUT when the clock does not make room within timeoutUs). RX returns samples
//   as the clock at the sample rate releases them; if TX has not supplied them, zeros are
//   delivered and the TX side reports SOAPY_SDR_UNDERFLOW in readStreamStatus. If the ring is
//   full when TX writes (RX falls behind), the oldest samples are dropped and the next RX read
//   returns SOAPY_SDR_OVERFLOW.
// Hardware time: ticks of delivered RX samples (paced: the wall clock since activation).
#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Registry.hpp>
#include <SoapySDR/Time.hpp>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *DRIVER = "sdrcast_loopback";
using Clock = std::chrono::steady_clock;
using cf32 = std::complex<float>;
constexpr int MAX_USERS = 64;
constexpr uint64_t MAGIC = 0x73647263'6c6f6f70ULL;  // "sdrcloop"

// The ring as it sits in shared memory: a process-shared robust mutex and condition variable
// (monotonic clock), the ring state, the processes using it, then the samples.
struct Shared {
    uint64_t magic;
    pthread_mutex_t mtx;
    pthread_cond_t cv;
    uint64_t size;   // samples in the ring
    uint64_t head;   // next write
    uint64_t count;  // stored samples
    int overflow;
    int underflow;
    int read_from;  // an RX stream has been active on it
    int lossless;   // an unpaced TX stream has written to it (its samples wait for a reader)
    pid_t users[MAX_USERS];
    cf32 buf[1];

    size_t free_space() const { return size - count; }
    void push(const cf32 *x, size_t n) {
        for (size_t i = 0; i < n; i++) buf[(head + i) % size] = x[i];
        head = (head + n) % size;
        count += n;
    }
    void pop(cf32 *y, size_t n) {
        size_t tail = (head + size - count) % size;
        for (size_t i = 0; i < n; i++) y[i] = buf[(tail + i) % size];
        count -= n;
    }
    void drop_oldest(size_t n) { count -= std::min<uint64_t>(n, count); }
};

size_t shared_bytes(size_t n) { return sizeof(Shared) + (n - 1) * sizeof(cf32); }

std::string shm_name(const std::string &loop) {
    std::string clean;
    for (char c : loop) clean += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
    return "/sdrcast_loopback_" + std::to_string(getuid()) + "_" + clean;
}

// One process's handle on a named ring: maps it (creating and initialising it when no live
// process uses it), registers this process, and on release unregisters it and removes the
// shared memory when it was the last user.
class Ring {
  public:
    Ring(const std::string &loop, size_t size) : name_(shm_name(loop)) {
        int fd = shm_open(name_.c_str(), O_RDWR | O_CREAT, 0600);
        if (fd < 0) throw std::runtime_error("sdrcast_loopback: shm_open " + name_ + ": " + std::strerror(errno));
        flock(fd, LOCK_EX);  // serialise set-up and tear-down between processes
        struct stat st {};
        fstat(fd, &st);
        bool fresh = static_cast<size_t>(st.st_size) < sizeof(Shared);
        if (!fresh) {
            auto *probe = static_cast<Shared *>(mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
            // a ring nobody uses any more starts afresh, unless it still holds samples a writer
            // left for a reader that has not opened it yet
            fresh = probe == MAP_FAILED || probe->magic != MAGIC ||
                    (!live_users(probe) && !keeps(probe));
            if (!fresh) size = probe->size;  // the ring's creator chose its size
            if (probe != MAP_FAILED) munmap(probe, sizeof(Shared));
        }
        bytes_ = shared_bytes(size);
        if (fresh && ftruncate(fd, static_cast<off_t>(bytes_)) != 0) {
            flock(fd, LOCK_UN);
            close(fd);
            throw std::runtime_error("sdrcast_loopback: cannot size shared memory " + name_);
        }
        void *p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            flock(fd, LOCK_UN);
            close(fd);
            throw std::runtime_error("sdrcast_loopback: cannot map shared memory " + name_);
        }
        s_ = static_cast<Shared *>(p);
        if (fresh) init(size);
        for (pid_t &u : s_->users)
            if (u == 0) {
                u = getpid();
                break;
            }
        flock(fd, LOCK_UN);
        fd_ = fd;
    }
    ~Ring() {
        flock(fd_, LOCK_EX);
        bool mine = false;  // unregister one entry of this process
        for (pid_t &u : s_->users)
            if (!mine && u == getpid()) {
                u = 0;
                mine = true;
            }
        // samples a writer left wait for a reader that has never come; otherwise the last
        // user removes the ring
        bool last = !live_users(s_) && !keeps(s_);
        if (last) s_->magic = 0;
        munmap(s_, bytes_);
        if (last) shm_unlink(name_.c_str());
        flock(fd_, LOCK_UN);
        close(fd_);
    }
    Shared *operator->() { return s_; }

    void lock() {
        if (pthread_mutex_lock(&s_->mtx) == EOWNERDEAD) pthread_mutex_consistent(&s_->mtx);
    }
    void unlock() { pthread_mutex_unlock(&s_->mtx); }
    void notify() { pthread_cond_broadcast(&s_->cv); }
    // wait (locked) until pred() or the deadline; returns pred()
    template <class Pred>
    bool wait_until(Clock::time_point deadline, Pred pred) {
        while (!pred()) {
            auto left = deadline - Clock::now();
            if (left <= Clock::duration::zero()) return pred();
            auto step = std::min<Clock::duration>(left, std::chrono::milliseconds(50));
            timespec ts{};
            clock_gettime(CLOCK_MONOTONIC, &ts);
            long long ns = ts.tv_nsec + std::chrono::duration_cast<std::chrono::nanoseconds>(step).count();
            ts.tv_sec += ns / 1000000000LL;
            ts.tv_nsec = ns % 1000000000LL;
            if (pthread_cond_timedwait(&s_->cv, &s_->mtx, &ts) == EOWNERDEAD)
                pthread_mutex_consistent(&s_->mtx);
        }
        return true;
    }

  private:
    static bool keeps(const Shared *s) { return s->count > 0 && s->lossless && !s->read_from; }
    static bool live_users(const Shared *s) {
        for (pid_t u : s->users)
            if (u != 0 && (kill(u, 0) == 0 || errno == EPERM)) return true;
        return false;
    }
    void init(size_t size) {
        std::memset(static_cast<void *>(s_), 0, sizeof(Shared));
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
        pthread_mutex_init(&s_->mtx, &ma);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s_->cv, &ca);
        s_->size = size;
        s_->magic = MAGIC;
    }
    std::string name_;
    int fd_ = -1;
    size_t bytes_ = 0;
    Shared *s_ = nullptr;
};

// One Ring per loop name and process (devices of one process share it).
std::mutex g_rings_mtx;
std::map<std::string, std::weak_ptr<Ring>> g_rings;

std::shared_ptr<Ring> shared_ring(const std::string &name, size_t size) {
    std::lock_guard<std::mutex> lock(g_rings_mtx);
    auto ring = g_rings[name].lock();
    if (!ring) {
        ring = std::make_shared<Ring>(name, size);
        g_rings[name] = ring;
    }
    return ring;
}

struct Stream {
    int direction;
    bool cs16;
    bool active = false;
};

class LoopbackDevice : public SoapySDR::Device {
  public:
    explicit LoopbackDevice(const SoapySDR::Kwargs &args) : args_(args) {
        loop_ = get("loop", "default");
        pace_ = get("pace", "0") == "1";
        long long size = std::stoll(get("buffer", "1048576"));
        if (size < 1024) throw std::runtime_error("sdrcast_loopback: buffer must be >= 1024 samples");
        ring_ = shared_ring(loop_, static_cast<size_t>(size));
        for (int d = 0; d < 2; d++) {
            rate_[d] = 1e6;
            freq_[d] = 100e6;
            bw_[d] = 1e6;
        }
        gains_[SOAPY_SDR_RX] = {{"LNA", 0.0}, {"VGA", 0.0}};
        gains_[SOAPY_SDR_TX] = {{"PA", 0.0}};
    }

    // identification ---------------------------------------------------------------------
    std::string getDriverKey() const override { return DRIVER; }
    std::string getHardwareKey() const override { return "loopback"; }
    SoapySDR::Kwargs getHardwareInfo() const override {
        return {{"loop", loop_}, {"pace", pace_ ? "1" : "0"}};
    }
    size_t getNumChannels(const int) const override { return 1; }
    bool getFullDuplex(const int, const size_t) const override { return true; }

    // settings ---------------------------------------------------------------------------
    std::vector<std::string> listAntennas(const int dir, const size_t) const override {
        return {dir == SOAPY_SDR_RX ? "RX" : "TX"};
    }
    void setAntenna(const int dir, const size_t ch, const std::string &name) override {
        if (name != listAntennas(dir, ch)[0]) throw std::runtime_error("no such antenna: " + name);
    }
    std::string getAntenna(const int dir, const size_t ch) const override {
        return listAntennas(dir, ch)[0];
    }
    std::vector<std::string> listGains(const int dir, const size_t) const override {
        std::vector<std::string> names;
        for (const auto &kv : gains_.at(dir)) names.push_back(kv.first);
        return names;
    }
    void setGain(const int dir, const size_t, const std::string &name, const double v) override {
        auto &g = gains_.at(dir);
        if (!g.count(name)) throw std::runtime_error("no such gain stage: " + name);
        g[name] = std::clamp(v, 0.0, 60.0);
    }
    double getGain(const int dir, const size_t, const std::string &name) const override {
        return gains_.at(dir).at(name);
    }
    SoapySDR::Range getGainRange(const int, const size_t, const std::string &) const override {
        return SoapySDR::Range(0.0, 60.0, 1.0);
    }
    void setFrequency(const int dir, const size_t, const double f, const SoapySDR::Kwargs &) override {
        freq_[dir] = f;
    }
    double getFrequency(const int dir, const size_t) const override { return freq_[dir]; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override {
        return {SoapySDR::Range(0.0, 6e9)};
    }
    void setSampleRate(const int dir, const size_t, const double rate) override {
        if (rate < 1e3 || rate > 100e6) throw std::runtime_error("sample rate out of range 1e3..100e6");
        rate_[dir] = rate;
    }
    double getSampleRate(const int dir, const size_t) const override { return rate_[dir]; }
    SoapySDR::RangeList getSampleRateRange(const int, const size_t) const override {
        return {SoapySDR::Range(1e3, 100e6)};
    }
    void setBandwidth(const int dir, const size_t, const double bw) override { bw_[dir] = bw; }
    double getBandwidth(const int dir, const size_t) const override { return bw_[dir]; }
    bool hasHardwareTime(const std::string &) const override { return true; }
    long long getHardwareTime(const std::string &) const override {
        return SoapySDR::ticksToTimeNs(rx_ticks_, rate_[SOAPY_SDR_RX]);
    }

    // streams ----------------------------------------------------------------------------
    std::vector<std::string> getStreamFormats(const int, const size_t) const override {
        return {SOAPY_SDR_CF32, SOAPY_SDR_CS16};
    }
    std::string getNativeStreamFormat(const int, const size_t, double &fullScale) const override {
        fullScale = 1.0;
        return SOAPY_SDR_CF32;
    }
    SoapySDR::Stream *setupStream(const int dir, const std::string &format,
                                  const std::vector<size_t> &channels,
                                  const SoapySDR::Kwargs &) override {
        if (format != SOAPY_SDR_CF32 && format != SOAPY_SDR_CS16)
            throw std::runtime_error("sdrcast_loopback: format must be CF32 or CS16, not " + format);
        for (size_t ch : channels)
            if (ch != 0) throw std::runtime_error("sdrcast_loopback has one channel (0)");
        auto *s = new Stream{dir, format == SOAPY_SDR_CS16};
        return reinterpret_cast<SoapySDR::Stream *>(s);
    }
    void closeStream(SoapySDR::Stream *stream) override { delete reinterpret_cast<Stream *>(stream); }
    size_t getStreamMTU(SoapySDR::Stream *) const override { return 16384; }

    int activateStream(SoapySDR::Stream *stream, const int, const long long, const size_t) override {
        auto *s = reinterpret_cast<Stream *>(stream);
        s->active = true;
        if (s->direction == SOAPY_SDR_RX) {
            t0_ = Clock::now();
            rx_ticks_ = 0;
            ring_->lock();
            (*ring_)->read_from = 1;
            ring_->unlock();
        } else {
            tx_t0_ = Clock::now();
            tx_ticks_ = 0;
            ring_->lock();
            (*ring_)->lossless |= pace_ ? 0 : 1;
            ring_->unlock();
        }
        return 0;
    }
    int deactivateStream(SoapySDR::Stream *stream, const int, const long long) override {
        reinterpret_cast<Stream *>(stream)->active = false;
        ring_->notify();
        return 0;
    }

    int readStream(SoapySDR::Stream *stream, void *const *buffs, const size_t numElems, int &flags,
                   long long &timeNs, const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (s->direction != SOAPY_SDR_RX || !s->active) return SOAPY_SDR_STREAM_ERROR;
        flags = 0;
        const auto deadline = Clock::now() + std::chrono::microseconds(timeoutUs);
        std::vector<cf32> tmp(numElems);
        size_t n = 0;
        Ring &r = *ring_;
        r.lock();
        if (r->overflow) {
            r->overflow = 0;
            r.unlock();
            return SOAPY_SDR_OVERFLOW;
        }
        if (pace_) {
            // release samples at the sample rate, whatever TX supplied
            long long due = static_cast<long long>(
                std::chrono::duration<double>(Clock::now() - t0_).count() * rate_[SOAPY_SDR_RX]);
            long long want = rx_ticks_ + static_cast<long long>(numElems);
            if (due < want) {
                auto wait = std::chrono::duration<double>((want - due) / rate_[SOAPY_SDR_RX]);
                r.unlock();
                if (Clock::now() + wait > deadline) {
                    std::this_thread::sleep_until(deadline);
                    return SOAPY_SDR_TIMEOUT;
                }
                std::this_thread::sleep_for(wait);
                r.lock();
            }
            n = numElems;
            size_t have = std::min<size_t>(n, r->count);
            r->pop(tmp.data(), have);
            if (have < n) {
                std::fill(tmp.begin() + have, tmp.begin() + n, cf32(0, 0));
                r->underflow = 1;
            }
        } else {
            if (!r.wait_until(deadline, [&] { return r->count > 0 || !s->active; })) {
                r.unlock();
                return SOAPY_SDR_TIMEOUT;
            }
            if (!s->active) {
                r.unlock();
                return SOAPY_SDR_STREAM_ERROR;
            }
            n = std::min<size_t>(numElems, r->count);
            r->pop(tmp.data(), n);
        }
        r.unlock();
        r.notify();
        store(s, buffs[0], tmp.data(), n);
        flags |= SOAPY_SDR_HAS_TIME;
        timeNs = SoapySDR::ticksToTimeNs(rx_ticks_, rate_[SOAPY_SDR_RX]);
        rx_ticks_ += static_cast<long long>(n);
        return static_cast<int>(n);
    }

    int writeStream(SoapySDR::Stream *stream, const void *const *buffs, const size_t numElems,
                    int &flags, const long long, const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (s->direction != SOAPY_SDR_TX || !s->active) return SOAPY_SDR_STREAM_ERROR;
        flags = 0;
        std::vector<cf32> tmp(numElems);
        load(s, buffs[0], tmp.data(), numElems);
        const auto deadline = Clock::now() + std::chrono::microseconds(timeoutUs);
        Ring &r = *ring_;
        size_t n = numElems;
        if (pace_) {
            // a radio takes samples at its rate: its buffer (the ring's size) fills, then the
            // writer waits for the clock
            double rate = rate_[SOAPY_SDR_TX];
            auto room = [&] {
                double t = std::chrono::duration<double>(Clock::now() - tx_t0_).count();
                return static_cast<long long>(t * rate) + static_cast<long long>(r->size) - tx_ticks_;
            };
            long long can = room();
            if (can < static_cast<long long>(std::min<size_t>(n, 1024))) {
                auto wait = std::chrono::duration<double>((std::min<size_t>(n, 1024) - can) / rate);
                if (Clock::now() + wait > deadline) {
                    std::this_thread::sleep_until(deadline);
                    return SOAPY_SDR_TIMEOUT;
                }
                std::this_thread::sleep_for(wait);
                can = room();
            }
            n = std::min<size_t>(n, static_cast<size_t>(std::max(can, 1LL)));
            r.lock();
            n = std::min<size_t>(n, r->size);
            if (r->free_space() < n) {
                r->drop_oldest(n - r->free_space());
                r->overflow = 1;
            }
            tx_ticks_ += static_cast<long long>(n);
        } else {
            r.lock();
            if (!r.wait_until(deadline, [&] { return r->free_space() > 0; })) {
                r.unlock();
                return SOAPY_SDR_TIMEOUT;
            }
            n = std::min<size_t>(n, r->free_space());
        }
        r->push(tmp.data(), n);
        r.unlock();
        r.notify();
        return static_cast<int>(n);
    }

    int readStreamStatus(SoapySDR::Stream *stream, size_t &chanMask, int &flags, long long &timeNs,
                         const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(stream);
        chanMask = 1;
        flags = 0;
        timeNs = getHardwareTime("");
        if (s->direction != SOAPY_SDR_TX) return SOAPY_SDR_NOT_SUPPORTED;
        Ring &r = *ring_;
        r.lock();
        bool under = r->underflow != 0;
        r->underflow = 0;
        r.unlock();
        if (!under) {
            if (timeoutUs > 0) std::this_thread::sleep_for(std::chrono::microseconds(timeoutUs));
            return SOAPY_SDR_TIMEOUT;
        }
        return SOAPY_SDR_UNDERFLOW;
    }

  private:
    std::string get(const std::string &key, const std::string &dflt) const {
        auto it = args_.find(key);
        return it == args_.end() ? dflt : it->second;
    }
    static void store(const Stream *s, void *dst, const cf32 *src, size_t n) {
        if (!s->cs16) {
            std::copy(src, src + n, static_cast<cf32 *>(dst));
            return;
        }
        auto *out = static_cast<int16_t *>(dst);
        for (size_t i = 0; i < n; i++) {
            out[2 * i] = to16(src[i].real());
            out[2 * i + 1] = to16(src[i].imag());
        }
    }
    static void load(const Stream *s, const void *src, cf32 *dst, size_t n) {
        if (!s->cs16) {
            std::copy(static_cast<const cf32 *>(src), static_cast<const cf32 *>(src) + n, dst);
            return;
        }
        auto *in = static_cast<const int16_t *>(src);
        for (size_t i = 0; i < n; i++) dst[i] = cf32(in[2 * i] / 32768.0f, in[2 * i + 1] / 32768.0f);
    }
    static int16_t to16(float x) {
        return static_cast<int16_t>(std::clamp(std::lrint(x * 32768.0f), -32768L, 32767L));
    }

    SoapySDR::Kwargs args_;
    std::string loop_;
    bool pace_ = false;
    std::shared_ptr<Ring> ring_;
    double rate_[2], freq_[2], bw_[2];
    std::map<int, std::map<std::string, double>> gains_;
    Clock::time_point t0_ = Clock::now();
    long long rx_ticks_ = 0;
    Clock::time_point tx_t0_ = Clock::now();
    long long tx_ticks_ = 0;
};

SoapySDR::KwargsList find_loopback(const SoapySDR::Kwargs &args) {
    // Only answer for our own driver key, or for an empty query (plain enumeration): never
    // claim args meant for another module (e.g. type=null).
    auto it = args.find("driver");
    if (it == args.end() ? !args.empty() : it->second != DRIVER) return {};
    SoapySDR::Kwargs dev = {{"driver", DRIVER}, {"label", "sdrcast loopback"}};
    for (const char *key : {"loop", "pace", "buffer"}) {
        auto a = args.find(key);
        if (a != args.end()) dev[key] = a->second;
    }
    return {dev};
}

SoapySDR::Device *make_loopback(const SoapySDR::Kwargs &args) { return new LoopbackDevice(args); }

SoapySDR::Registry registration(DRIVER, &find_loopback, &make_loopback, SOAPY_SDR_ABI_VERSION);

}  // namespace
