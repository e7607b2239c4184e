# The deploy tests: Debian's docker-registry (the distribution registry
# server), which the end-to-end deploy test starts on loopback with basic auth.
apt_install docker-registry
