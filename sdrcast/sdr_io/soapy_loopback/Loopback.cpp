// sdrcast_loopback: a SoapySDR device whose TX stream feeds its RX stream through a ring buffer.
//
// Device args:  driver=sdrcast_loopback  loop=NAME (devices opened with the same loop name share
//               one ring, so a TX device and an RX device in one process are connected; default
//               "default")  pace=1 (real-time pacing at the sample rate)  buffer=N (ring size in
//               samples, default 1048576).
// Formats: CF32 and CS16 (full scale 32768) on both directions; one channel each way.
// Unpaced (default): RX blocks until samples are there (SOAPY_SDR_TIMEOUT after timeoutUs), TX
//   blocks until there is room (SOAPY_SDR_TIMEOUT).  Nothing is lost.
// Paced: RX returns samples as the clock at the sample rate releases them; if TX has not supplied
//   them, zeros are delivered and the TX side reports SOAPY_SDR_UNDERFLOW in readStreamStatus.
//   If the ring is full when TX writes (RX falls behind), the oldest samples are dropped and the
//   next RX read returns SOAPY_SDR_OVERFLOW.
// Hardware time: ticks of delivered RX samples (paced: the wall clock since activation).
#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Registry.hpp>
#include <SoapySDR/Time.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *DRIVER = "sdrcast_loopback";
using Clock = std::chrono::steady_clock;
using cf32 = std::complex<float>;

struct Ring {
    explicit Ring(size_t n) : buf(n) {}
    std::mutex mtx;
    std::condition_variable cv;
    std::vector<cf32> buf;
    size_t head = 0;   // next write
    size_t count = 0;  // stored samples
    bool overflow = false;
    bool underflow = false;

    size_t free_space() const { return buf.size() - count; }
    void push(const cf32 *x, size_t n) {
        for (size_t i = 0; i < n; i++) buf[(head + i) % buf.size()] = x[i];
        head = (head + n) % buf.size();
        count += n;
    }
    void pop(cf32 *y, size_t n) {
        size_t tail = (head + buf.size() - count) % buf.size();
        for (size_t i = 0; i < n; i++) y[i] = buf[(tail + i) % buf.size()];
        count -= n;
    }
    void drop_oldest(size_t n) { count -= std::min(n, count); }
};

std::mutex g_rings_mtx;
std::map<std::string, std::weak_ptr<Ring>> g_rings;

std::shared_ptr<Ring> shared_ring(const std::string &name, size_t size) {
    std::lock_guard<std::mutex> lock(g_rings_mtx);
    auto ring = g_rings[name].lock();
    if (!ring) {
        ring = std::make_shared<Ring>(size);
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
        }
        return 0;
    }
    int deactivateStream(SoapySDR::Stream *stream, const int, const long long) override {
        reinterpret_cast<Stream *>(stream)->active = false;
        ring_->cv.notify_all();
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
        std::unique_lock<std::mutex> lock(ring_->mtx);
        if (ring_->overflow) {
            ring_->overflow = false;
            return SOAPY_SDR_OVERFLOW;
        }
        if (pace_) {
            // release samples at the sample rate, whatever TX supplied
            long long due = static_cast<long long>(
                std::chrono::duration<double>(Clock::now() - t0_).count() * rate_[SOAPY_SDR_RX]);
            long long want = rx_ticks_ + static_cast<long long>(numElems);
            if (due < want) {
                auto wait = std::chrono::duration<double>((want - due) / rate_[SOAPY_SDR_RX]);
                if (Clock::now() + wait > deadline) {
                    lock.unlock();
                    std::this_thread::sleep_until(deadline);
                    return SOAPY_SDR_TIMEOUT;
                }
                lock.unlock();
                std::this_thread::sleep_for(wait);
                lock.lock();
            }
            n = numElems;
            size_t have = std::min(n, ring_->count);
            ring_->pop(tmp.data(), have);
            if (have < n) {
                std::fill(tmp.begin() + have, tmp.begin() + n, cf32(0, 0));
                ring_->underflow = true;
            }
        } else {
            if (!ring_->cv.wait_until(lock, deadline, [&] { return ring_->count > 0 || !s->active; }))
                return SOAPY_SDR_TIMEOUT;
            if (!s->active) return SOAPY_SDR_STREAM_ERROR;
            n = std::min(numElems, ring_->count);
            ring_->pop(tmp.data(), n);
        }
        lock.unlock();
        ring_->cv.notify_all();
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
        std::unique_lock<std::mutex> lock(ring_->mtx);
        size_t n = numElems;
        if (pace_) {
            if (ring_->free_space() < n) {
                ring_->drop_oldest(n - ring_->free_space());
                ring_->overflow = true;
            }
            n = std::min(n, ring_->buf.size());
        } else {
            if (!ring_->cv.wait_until(lock, deadline, [&] { return ring_->free_space() > 0; }))
                return SOAPY_SDR_TIMEOUT;
            n = std::min(n, ring_->free_space());
        }
        ring_->push(tmp.data(), n);
        lock.unlock();
        ring_->cv.notify_all();
        return static_cast<int>(n);
    }

    int readStreamStatus(SoapySDR::Stream *stream, size_t &chanMask, int &flags, long long &timeNs,
                         const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(stream);
        chanMask = 1;
        flags = 0;
        timeNs = getHardwareTime("");
        if (s->direction != SOAPY_SDR_TX) return SOAPY_SDR_NOT_SUPPORTED;
        std::unique_lock<std::mutex> lock(ring_->mtx);
        if (!ring_->underflow) {
            lock.unlock();
            if (timeoutUs > 0) std::this_thread::sleep_for(std::chrono::microseconds(timeoutUs));
            return SOAPY_SDR_TIMEOUT;
        }
        ring_->underflow = false;
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
