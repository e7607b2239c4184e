package lsp

import "time"

// closeGrace bounds how long Run waits for the connection's reader to stop
// after exit. Closing os.Stdin does not interrupt a read already blocked on
// a blocking pipe (what editors hand the server), so without a bound the
// process would outlive `exit` until the editor closed the pipe, and Neovim
// 0.7's SIGTERM would be swallowed by the signal context. It is short because
// on real stdio it always elapses, and Neovim gives a server 500 ms after
// `exit` before it sends SIGTERM and stops waiting.
const closeGrace = 100 * time.Millisecond

// awaitConnDone waits for the connection to finish, at most closeGrace.
func (s *Server) awaitConnDone() {
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-s.conn.Done():
	case <-t.C:
		s.log.Printf("exit: connection reader still blocked after %v; exiting anyway", closeGrace)
	}
}
