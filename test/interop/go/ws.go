package main

// WebSocket frames (RFC 6455 §5) carried in HTTP/3 DATA frames (RFC 9220 §3),
// and one session per request stream: messages, ping/pong, the close
// handshake, abort. Everything observed is reported as an event on stdout.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/lucas-clemente/quic-go"
)

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// Larger than any message the tests send; a bound on frames and messages so a
// broken peer cannot exhaust memory.
const maxMessage = 64 << 20

type wsFrame struct {
	fin     bool
	rsv     byte
	opcode  byte
	masked  bool
	payload []byte
}

// appendWSFrame builds one frame; a client masks with a fresh key (RFC 6455 §5.3).
func appendWSFrame(b []byte, fin bool, opcode byte, payload []byte, mask bool) []byte {
	first := opcode
	if fin {
		first |= 0x80
	}
	var maskBit byte
	if mask {
		maskBit = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, first, maskBit|byte(n))
	case n < 1<<16:
		b = append(b, first, maskBit|126, byte(n>>8), byte(n))
	default:
		b = append(b, first, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !mask {
		return append(b, payload...)
	}
	var key [4]byte
	rand.Read(key[:])
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range b[start:] {
		b[start+i] ^= key[i&3]
	}
	return b
}

func readWSFrame(r *bufio.Reader) (wsFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return wsFrame{}, err
	}
	f := wsFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, opcode: h[0] & 0x0f, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, unexpected(err)
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > maxMessage {
		return f, errTooBig
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, unexpected(err)
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, unexpected(err)
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= key[i&3]
		}
	}
	return f, nil
}

var errTooBig = errors.New("frame larger than this peer accepts")

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// pattern is the payload the tests agree on: `size` bytes, ASCII letters for
// text, a byte ramp modulo the prime 251 for binary (so 256-byte blocks differ).
func pattern(text bool, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		if text {
			b[i] = 'a' + byte(i%26)
		} else {
			b[i] = byte(i % 251)
		}
	}
	return b
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// wsSession is one WebSocket on one request stream.
type wsSession struct {
	id       int
	stream   quic.Stream
	isClient bool // masks what it sends, expects unmasked frames (RFC 6455 §5.1)
	echo     bool // server mode: send every message back
	r        *bufio.Reader

	mu         sync.Mutex // serialises writes and guards the close state
	closeSent  bool
	closeRecvd bool
	aborted    bool          // we aborted: the read error that follows is our own
	done       chan struct{} // closed when the peer's direction has ended
}

func newSession(id int, stream quic.Stream, r *bufio.Reader, isClient, echo bool) *wsSession {
	return &wsSession{id: id, stream: stream, r: bufio.NewReaderSize(&dataReader{r: r}, 64*1024), isClient: isClient, echo: echo, done: make(chan struct{})}
}

func (s *wsSession) emit(e event) {
	e["session"] = s.id
	emit(e)
}

// writeFrame sends one WebSocket frame in one DATA frame.
func (s *wsSession) writeFrame(fin bool, opcode byte, payload []byte) error {
	ws := appendWSFrame(make([]byte, 0, len(payload)+14), fin, opcode, payload, s.isClient)
	data := appendFrame(nil, grease(9), []byte("g")) // unknown frames may sit between DATA frames (RFC 9114 §4.1)
	data = appendVarint(appendVarint(data, frameData), uint64(len(ws)))
	_, err := s.stream.Write(append(data, ws...))
	if err != nil {
		s.reportWriteError(err)
	}
	return err
}

func (s *wsSession) reportWriteError(err error) {
	var se *quic.StreamError
	if errors.As(err, &se) {
		s.emit(event{"event": "stop_sending", "code": uint64(se.ErrorCode)})
	}
}

// sendMessage sends payload as `fragments` frames (RFC 6455 §5.4).
func (s *wsSession) sendMessage(opcode byte, payload []byte, fragments int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fragments < 1 {
		fragments = 1
	}
	step := (len(payload) + fragments - 1) / fragments
	for i := 0; i < fragments; i++ {
		lo, hi := min(i*step, len(payload)), min((i+1)*step, len(payload))
		op := byte(opContinuation)
		if i == 0 {
			op = opcode
		}
		if err := s.writeFrame(i == fragments-1, op, payload[lo:hi]); err != nil {
			return err
		}
	}
	return nil
}

func (s *wsSession) control(opcode byte, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeFrame(true, opcode, payload)
}

// close starts the closing handshake (RFC 6455 §5.5.1); code 0 sends an empty body.
func (s *wsSession) close(code int, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeSent {
		return nil
	}
	s.closeSent = true
	if err := s.writeFrame(true, opClose, closeBody(code, reason)); err != nil {
		return err
	}
	if s.closeRecvd {
		return s.stream.Close() // both close frames are through: FIN
	}
	return nil
}

func closeBody(code int, reason string) []byte {
	if code == 0 {
		return nil
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// abort is RFC 9220 §3's equivalent of a TCP reset: both directions at once with H3_REQUEST_CANCELLED.
func (s *wsSession) abort() {
	s.mu.Lock()
	s.aborted = true
	s.mu.Unlock()
	s.stream.CancelWrite(h3RequestCancelled)
	s.stream.CancelRead(h3RequestCancelled)
}

// fail closes with `code` after a protocol violation by the peer (RFC 6455 §7.1.7).
func (s *wsSession) fail(code int, why string) {
	s.emit(event{"event": "protocol_error", "message": why})
	s.close(code, why)
}

// run reads frames until the stream ends, reporting what arrives.
func (s *wsSession) run() {
	defer close(s.done)
	var msg []byte
	var msgOp byte
	frames := 0
	for {
		f, err := readWSFrame(s.r)
		if err != nil {
			s.reportEnd(err)
			return
		}
		if f.masked == s.isClient {
			s.fail(1002, "wrong masking for this direction")
			continue
		}
		if f.rsv != 0 {
			s.fail(1002, "reserved bits set without an extension")
			continue
		}
		switch f.opcode {
		case opPing:
			s.emit(event{"event": "ping", "data": string(f.payload)})
			s.control(opPong, f.payload)
		case opPong:
			s.emit(event{"event": "pong", "data": string(f.payload)})
		case opClose:
			s.onClose(f.payload)
		case opText, opBinary, opContinuation:
			if (f.opcode == opContinuation) != (msg != nil) {
				s.fail(1002, "unexpected continuation state")
				continue
			}
			if f.opcode != opContinuation {
				msg, msgOp, frames = make([]byte, 0, len(f.payload)), f.opcode, 0
			}
			if len(msg)+len(f.payload) > maxMessage {
				s.fail(1009, "message larger than this peer accepts")
				return
			}
			msg = append(msg, f.payload...)
			frames++
			if !f.fin {
				continue
			}
			s.onMessage(msgOp, msg, frames)
			msg = nil
		default:
			s.fail(1002, "unknown opcode")
		}
	}
}

func (s *wsSession) onMessage(op byte, msg []byte, frames int) {
	kind := "binary"
	if op == opText {
		kind = "text"
		if !utf8.Valid(msg) {
			s.fail(1007, "invalid UTF-8 in a text message")
			return
		}
	}
	s.emit(event{"event": "message", "type": kind, "size": len(msg), "sha256": digest(msg), "frames": frames})
	if s.echo {
		s.sendMessage(op, msg, 1)
	}
}

func (s *wsSession) onClose(body []byte) {
	e := event{"event": "close"}
	code := 0
	if len(body) >= 2 {
		code = int(binary.BigEndian.Uint16(body))
		e["code"], e["reason"] = code, string(body[2:])
	} else if len(body) == 1 {
		s.fail(1002, "close frame with a 1-byte body")
		return
	}
	s.emit(e)
	s.mu.Lock()
	s.closeRecvd = true
	sent := s.closeSent
	s.mu.Unlock()
	if sent {
		s.stream.Close() // our close frame went first: this completes the handshake, FIN
		return
	}
	s.close(code, "") // RFC 6455 §5.5.1: echo the status code
}

// reportEnd says how the peer ended its direction: FIN ('end') or RESET_STREAM ('reset' with its code).
func (s *wsSession) reportEnd(err error) {
	s.mu.Lock()
	aborted := s.aborted
	s.mu.Unlock()
	if aborted {
		return
	}
	var se *quic.StreamError
	var ae *quic.ApplicationError
	switch {
	case err == io.EOF:
		s.emit(event{"event": "end"})
	case errors.As(err, &se):
		s.emit(event{"event": "reset", "code": uint64(se.ErrorCode)})
	case errors.As(err, &ae):
		s.emit(event{"event": "conn_closed", "code": uint64(ae.ErrorCode), "reason": ae.ErrorMessage})
	default:
		s.emit(event{"event": "read_error", "message": err.Error()})
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
