"""GNU Radio 3.10 side of the interop tests; runs under Debian's /usr/bin/python3.

send PATTERN ADDRESS PASS_TAGS N     vector_source_c(ramp, 1 tag / 1000 items) -> throttle -> sink
file ADDRESS PATH                    file_source_c(PATH, once) -> push_sink (backpressure, no throttle)
recv PATTERN ADDRESS PASS_TAGS N OUT source -> head(N) -> vector_sink_c; writes JSON items and tags to OUT
                                     (stops itself after N items or 60 s)
"""
import json
import os
import sys
import time

import numpy as np
import pmt
from gnuradio import blocks, gr, zeromq


def ramp(n):
    i = np.arange(n, dtype=np.float32)
    return (i - 1j * i).astype(np.complex64)


def send_file(address, path):
    tb = gr.top_block()
    tb.connect(blocks.file_source(gr.sizeof_gr_complex, path, False),
               zeromq.push_sink(gr.sizeof_gr_complex, 1, address, 100, False, -1))
    tb.run()
    time.sleep(2.0)  # the last messages leave the socket before it closes


def main():
    if sys.argv[1] == "file":
        send_file(*sys.argv[2:4])
        return
    mode, pattern, address, pass_tags, n = sys.argv[1:6]
    pass_tags, n = pass_tags == "1", int(n)
    tb = gr.top_block()
    if mode == "send":
        tags = [gr.tag_utils.python_to_tag((k, pmt.intern("frame_start"), pmt.from_long(k // 1000),
                                            pmt.intern("gr")))
                for k in range(0, n, 1000)]
        src = blocks.vector_source_c(ramp(n).tolist(), False, 1, tags)
        thr = blocks.throttle(gr.sizeof_gr_complex, 2e6)
        make = {"pub": zeromq.pub_sink, "push": zeromq.push_sink}[pattern]
        snk = make(gr.sizeof_gr_complex, 1, address, 100, pass_tags, -1)
        tb.connect(src, thr, snk)
        time.sleep(1.0)  # let the sdrcast side connect before data flows (PUB slow joiner)
        tb.run()
        time.sleep(0.5)
        return
    make = {"sub": zeromq.sub_source, "pull": zeromq.pull_source}[pattern]
    src = make(gr.sizeof_gr_complex, 1, address, 100, pass_tags, -1)
    head = blocks.head(gr.sizeof_gr_complex, n)
    snk = blocks.vector_sink_c()
    tb.connect(src, head, snk)
    # a ZMQ source never sees end of stream: stop once head has passed N items
    tb.start()
    deadline = time.monotonic() + 60
    while len(snk.data()) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    data = np.array(snk.data(), np.complex64)
    tags = [{"offset": t.offset, "key": pmt.symbol_to_string(t.key),
             "value": pmt.to_python(t.value)} for t in snk.tags()]
    with open(sys.argv[6], "w") as f:
        json.dump({"re": data.real.tolist(), "im": data.imag.tolist(), "tags": tags}, f)
    os._exit(0)  # tb.stop() can wait tens of seconds on a ZMQ source; nothing else to clean up


if __name__ == "__main__":
    main()
