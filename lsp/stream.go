package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"strconv"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
)

// stream frames JSON-RPC messages with Content-Length headers, like
// jsonrpc2.NewStream, but survives bad input: a body that is not JSON is
// answered with a ParseError whose id is null, a body that is JSON but not a
// message with an InvalidRequest, and reading goes on. (jsonrpc2 v0.10.0
// closes the connection on any read error.) Only the end of the input or a
// broken transport ends a session.
type stream struct {
	rwc io.ReadWriteCloser
	in  *bufio.Reader
	log *log.Logger

	mu sync.Mutex // serialises writes: replies, notifications, our own errors
}

func newStream(rwc io.ReadWriteCloser, logger *log.Logger) *stream {
	return &stream{rwc: rwc, in: bufio.NewReaderSize(rwc, 64<<10), log: logger}
}

// Read returns the next well-formed message.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, total, err
		}
		data, n, err := s.readFrame()
		total += n
		if err != nil {
			return nil, total, err
		}
		if data == nil {
			continue // a framing problem already answered
		}
		if !json.Valid(data) {
			s.log.Printf("malformed message (%d bytes): not JSON", len(data))
			s.writeError(nil, jsonrpc2.ParseError, "parse error: message is not valid JSON")
			continue
		}
		msg, err := jsonrpc2.DecodeMessage(data)
		if err != nil {
			s.log.Printf("invalid message: %v", err)
			s.writeError(rawID(data), jsonrpc2.InvalidRequest, fmt.Sprintf("invalid request: %v", err))
			continue
		}
		return msg, total, nil
	}
}

// readFrame reads one header block and body. It returns a nil body, and no
// error, when the header was unusable and has been answered.
func (s *stream) readFrame() ([]byte, int64, error) {
	var total int64
	length := int64(-1)
	bad := ""
	sawHeader := false
	for {
		line, err := s.in.ReadString('\n')
		total += int64(len(line))
		if err != nil {
			if err == io.EOF && !sawHeader {
				return nil, total, io.EOF
			}
			return nil, total, fmt.Errorf("reading header: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			if !sawHeader {
				continue // blank lines between messages are harmless
			}
			break
		}
		sawHeader = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			bad = fmt.Sprintf("invalid header line %q", line)
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 32)
			if err != nil || n <= 0 {
				bad = fmt.Sprintf("invalid Content-Length %q", strings.TrimSpace(value))
				continue
			}
			length = n
		}
	}
	if length < 0 {
		if bad == "" {
			bad = "missing Content-Length header"
		}
		s.log.Printf("malformed message header: %s", bad)
		s.writeError(nil, jsonrpc2.ParseError, "parse error: "+bad)
		return nil, total, nil
	}
	data := make([]byte, length)
	if _, err := io.ReadFull(s.in, data); err != nil {
		return nil, total, fmt.Errorf("reading body: %w", err)
	}
	return data, total + length, nil
}

// Write frames and writes msg.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshaling message: %w", err)
	}
	return s.writeRaw(data)
}

func (s *stream) writeRaw(data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := make([]byte, 0, len(data)+32)
	buf = append(buf, "Content-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(data)), 10)
	buf = append(buf, "\r\n\r\n"...)
	buf = append(buf, data...)
	n, err := s.rwc.Write(buf)
	if err != nil {
		return int64(n), fmt.Errorf("writing message: %w", err)
	}
	return int64(n), nil
}

// writeError answers a message that never reached the handlers. id is the
// raw JSON id, or nil for "id": null.
func (s *stream) writeError(id json.RawMessage, code jsonrpc2.Code, message string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *jsonrpc2.Error `json:"error"`
	}{"2.0", id, &jsonrpc2.Error{Code: code, Message: message}}
	data, err := json.Marshal(resp)
	if err != nil {
		return
	}
	if _, err := s.writeRaw(data); err != nil {
		s.log.Printf("answering a malformed message: %v", err)
	}
}

// Close closes the transport.
func (s *stream) Close() error { return s.rwc.Close() }

// rawID extracts a usable id (number or string) from a message that did not
// decode; nil when there is none.
func rawID(data []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &m) != nil || len(m.ID) == 0 {
		return nil
	}
	switch m.ID[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return m.ID
	}
	return nil
}
