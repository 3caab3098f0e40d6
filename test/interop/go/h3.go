package main

// HTTP/3 (RFC 9114) pieces this peer needs: frames, SETTINGS on the control
// stream, QPACK field sections (static table only, via the qpack package),
// GOAWAY, and a reader that yields the payload of DATA frames on a request
// stream. quic-go's own http3 package is not used: it has no extended CONNECT
// in this version, and an independent peer should spell the wire format out.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/quicvarint"
	"github.com/marten-seemann/qpack"
)

// Frame types (RFC 9114 §7.2).
const (
	frameData     = 0x00
	frameHeaders  = 0x01
	frameSettings = 0x04
	framePush     = 0x05
	frameGoaway   = 0x07
)

// Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2).
const (
	streamControl     = 0x00
	streamPush        = 0x01
	streamQpackEncode = 0x02
	streamQpackDecode = 0x03
)

// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §5, RFC 8441 §3).
const settingEnableConnect = 0x08

// HTTP/3 error codes (RFC 9114 §8.1).
const (
	h3NoError          = 0x0100
	h3GeneralProtocol  = 0x0101
	h3StreamCreation   = 0x0103
	h3ClosedCritical   = 0x0104
	h3FrameUnexpected  = 0x0105
	h3FrameError       = 0x0106
	h3MissingSettings  = 0x010a
	h3RequestCancelled = 0x010c
	h3MessageError     = 0x010e
)

// grease is a reserved identifier, 0x1f*N+0x21, for settings and frame types
// (RFC 9114 §7.2.4.1, §7.2.8): a receiver must ignore it. This peer sends some
// everywhere it may, so that a receiver that chokes on them is caught.
func grease(n uint64) uint64 { return 0x1f*n + 0x21 }

// Field sections and control frames are small; DATA is streamed, never buffered whole.
const maxControlFrame = 64 * 1024

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

func appendFrame(b []byte, typ uint64, payload []byte) []byte {
	b = appendVarint(b, typ)
	b = appendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func readFrameHeader(r *bufio.Reader) (typ, length uint64, err error) {
	if typ, err = quicvarint.Read(r); err != nil {
		return
	}
	length, err = quicvarint.Read(r)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // a frame cut after its type (RFC 9114 §7.1: H3_FRAME_ERROR)
	}
	return
}

func readPayload(r *bufio.Reader, length uint64) ([]byte, error) {
	if length > maxControlFrame {
		return nil, fmt.Errorf("frame of %d bytes is larger than this peer accepts", length)
	}
	b := make([]byte, length)
	_, err := io.ReadFull(r, b)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// isKnownFrame: types up to 0x0d are HTTP/3's own or reserved from HTTP/2
// (RFC 9114 §7.2, §11.2.1); any other type, greasing (0x1f*N+0x21) included,
// is unknown and skipped (§9).
func isKnownFrame(typ uint64) bool {
	return typ <= 0x0d
}

type field struct{ name, value string }

func encodeFields(fields []field) []byte {
	var buf bytes.Buffer
	enc := qpack.NewEncoder(&buf)
	for _, f := range fields {
		enc.WriteField(qpack.HeaderField{Name: f.name, Value: f.value})
	}
	enc.Close()
	return buf.Bytes()
}

func decodeFields(block []byte) ([]field, error) {
	hfs, err := qpack.NewDecoder(nil).DecodeFull(block)
	if err != nil {
		return nil, err
	}
	out := make([]field, len(hfs))
	for i, hf := range hfs {
		out[i] = field{hf.Name, hf.Value}
	}
	return out, nil
}

func fieldValue(fields []field, name string) (string, bool) {
	for _, f := range fields {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

func fieldMap(fields []field) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		if old, ok := m[f.name]; ok {
			m[f.name] = old + ", " + f.value
		} else {
			m[f.name] = f.value
		}
	}
	return m
}

// readFieldSection reads the HEADERS frame that opens a request or response,
// skipping unknown frames before it (RFC 9114 §4.1: DATA before HEADERS is H3_FRAME_UNEXPECTED).
func readFieldSection(r *bufio.Reader) ([]field, error) {
	for {
		typ, length, err := readFrameHeader(r)
		if err != nil {
			return nil, err
		}
		switch {
		case typ == frameHeaders:
			block, err := readPayload(r, length)
			if err != nil {
				return nil, err
			}
			return decodeFields(block)
		case isKnownFrame(typ):
			return nil, fmt.Errorf("frame 0x%x before HEADERS on a request stream", typ)
		default:
			if _, err := r.Discard(int(length)); err != nil {
				return nil, err
			}
		}
	}
}

// dataReader yields the payload of the DATA frames on a request stream
// (RFC 9114 §4.1), skipping unknown frames; a trailing HEADERS is ignored.
type dataReader struct {
	r    *bufio.Reader
	left uint64
}

func (d *dataReader) Read(p []byte) (int, error) {
	for d.left == 0 {
		typ, length, err := readFrameHeader(d.r)
		if err != nil {
			return 0, err
		}
		switch {
		case typ == frameData:
			d.left = length
		case typ == frameHeaders || !isKnownFrame(typ):
			if _, err := d.r.Discard(int(length)); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("frame 0x%x on a request stream after HEADERS", typ)
		}
	}
	if uint64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= uint64(n)
	if err == io.EOF && d.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// h3conn is one HTTP/3 connection: our control stream, and the peer's
// SETTINGS and GOAWAY as read from its control stream.
type h3conn struct {
	conn     quic.Connection
	id       int
	control  quic.SendStream
	settings chan map[uint64]uint64 // receives the peer's SETTINGS once
	onGoaway func(id uint64)
}

func newH3Conn(conn quic.Connection, id int, isServer bool, onGoaway func(uint64)) (*h3conn, error) {
	c := &h3conn{conn: conn, id: id, settings: make(chan map[uint64]uint64, 1), onGoaway: onGoaway}
	control, err := conn.OpenUniStream()
	if err != nil {
		return nil, err
	}
	c.control = control
	// RFC 9114 §6.2.1: the control stream starts with SETTINGS; RFC 9220 §5:
	// ENABLE_CONNECT_PROTOCOL = 1 lets the peer send extended CONNECT (servers only need to).
	var settings []byte
	if isServer {
		settings = appendVarint(appendVarint(settings, settingEnableConnect), 1)
	}
	settings = appendVarint(appendVarint(settings, grease(3)), 7)
	first := appendFrame([]byte{streamControl}, frameSettings, settings)
	first = appendFrame(first, grease(5), []byte("grease"))
	if _, err := control.Write(first); err != nil {
		return nil, err
	}
	// QPACK encoder and decoder streams (RFC 9204 §4.2), opened as most stacks do even
	// with no dynamic table; they carry nothing here but must be accepted and kept.
	for _, typ := range []byte{streamQpackEncode, streamQpackDecode} {
		s, err := conn.OpenUniStream()
		if err != nil {
			return nil, err
		}
		if _, err := s.Write([]byte{typ}); err != nil {
			return nil, err
		}
	}
	go c.acceptUniStreams()
	return c, nil
}

func (c *h3conn) acceptUniStreams() {
	for {
		s, err := c.conn.AcceptUniStream(context.Background())
		if err != nil {
			c.reportClosed(err)
			return
		}
		go c.handleUniStream(s)
	}
}

// reportClosed says how the connection ended: who closed it, with which code and reason.
func (c *h3conn) reportClosed(err error) {
	e := event{"event": "conn_closed", "conn": c.id, "message": err.Error()}
	var ae *quic.ApplicationError
	if errors.As(err, &ae) {
		e["code"], e["reason"], e["remote"] = uint64(ae.ErrorCode), ae.ErrorMessage, ae.Remote
	}
	emit(e)
}

func (c *h3conn) handleUniStream(s quic.ReceiveStream) {
	r := bufio.NewReader(s)
	typ, err := quicvarint.Read(r)
	if err != nil {
		return
	}
	switch typ {
	case streamControl:
		c.readControl(r)
	case streamQpackEncode, streamQpackDecode:
		// We advertise no dynamic table, so these carry nothing we need; they
		// must stay open (closing them is H3_CLOSED_CRITICAL_STREAM, RFC 9204 §4.2).
		io.Copy(io.Discard, r)
	case streamPush:
		// We never sent MAX_PUSH_ID, so a push stream is an error (RFC 9114 §4.6).
		c.conn.CloseWithError(h3StreamCreation, "push stream without MAX_PUSH_ID")
	default:
		s.CancelRead(h3StreamCreation) // unknown stream types are refused (§6.2)
	}
}

func (c *h3conn) readControl(r *bufio.Reader) {
	first := true
	for {
		typ, length, err := readFrameHeader(r)
		if err != nil {
			// Everything the peer's control stream delivered (GOAWAY included) has been reported.
			emit(event{"event": "control_ended", "conn": c.id})
			// RFC 9114 §6.2.1: the control stream never ends (a no-op if the connection is gone).
			c.conn.CloseWithError(h3ClosedCritical, "control stream ended")
			return
		}
		payload, err := readPayload(r, length)
		if err != nil {
			c.conn.CloseWithError(h3FrameError, err.Error())
			return
		}
		if first != (typ == frameSettings) {
			code := quic.ApplicationErrorCode(h3MissingSettings)
			if !first {
				code = h3FrameUnexpected
			}
			emit(event{"event": "protocol_error", "conn": c.id, "message": fmt.Sprintf("control stream frame 0x%x (first: %v)", typ, first)})
			c.conn.CloseWithError(code, "bad control stream")
			return
		}
		first = false
		switch typ {
		case frameSettings:
			settings, err := parseSettings(payload)
			if err != nil {
				c.conn.CloseWithError(h3FrameError, err.Error())
				return
			}
			c.settings <- settings
		case frameGoaway:
			id, err := quicvarint.Read(bytes.NewReader(payload))
			if err != nil {
				c.conn.CloseWithError(h3FrameError, "GOAWAY without an id")
				return
			}
			if c.onGoaway != nil {
				c.onGoaway(id)
			}
		case frameData, frameHeaders, framePush:
			c.conn.CloseWithError(h3FrameUnexpected, "request frame on the control stream")
			return
		}
	}
}

func parseSettings(payload []byte) (map[uint64]uint64, error) {
	r := bytes.NewReader(payload)
	out := map[uint64]uint64{}
	for r.Len() > 0 {
		id, err := quicvarint.Read(r)
		if err != nil {
			return nil, err
		}
		value, err := quicvarint.Read(r)
		if err != nil {
			return nil, err
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("setting 0x%x twice", id) // RFC 9114 §7.2.4: H3_SETTINGS_ERROR
		}
		out[id] = value
	}
	return out, nil
}

// goaway sends GOAWAY on our control stream (RFC 9114 §5.2).
func (c *h3conn) goaway(id uint64) error {
	_, err := c.control.Write(appendFrame(nil, frameGoaway, appendVarint(nil, id)))
	return err
}

// writeHeaders sends one HEADERS frame on a request stream, after an unknown
// frame (allowed before HEADERS too, RFC 9114 §4.1).
func writeHeaders(w io.Writer, fields []field) error {
	_, err := w.Write(appendFrame(appendFrame(nil, grease(7), []byte("grease")), frameHeaders, encodeFields(fields)))
	return err
}
