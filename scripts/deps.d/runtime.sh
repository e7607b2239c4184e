# The runtime tests and `make bench`: wrk drives the generated handler
# binaries over loopback (SIGTERM under load, the load-balancer budget).
apt_install wrk
