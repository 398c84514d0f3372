"""The broadcast monitoring station (``sdrcast monitor``, issue 14): channels watched every
second (RF, FEC, TS per ETSI TR 101 290, IP), alarms, SQLite history, Prometheus metrics,
SigMF recordings around alarms and a live web page. See docs/monitor.md."""
