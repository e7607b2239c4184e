# The streaming tests (runtime): the eventsource npm package, a real
# Server-Sent Events client that reads a load-balanced handler's stream.
npm_ci runtime/testdata/sse
