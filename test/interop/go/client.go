package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
)

// dialH3 opens a QUIC connection and waits for the server's SETTINGS.
func dialH3(addr, caFile string, onGoaway func(uint64)) (*h3conn, map[uint64]uint64, error) {
	tlsConf, err := clientTLS(caFile)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := quic.DialAddrContext(ctx, addr, tlsConf, quicConfig())
	if err != nil {
		return nil, nil, err
	}
	h, err := newH3Conn(conn, 1, false, onGoaway)
	if err != nil {
		return nil, nil, err
	}
	select {
	case settings := <-h.settings:
		return h, settings, nil
	case <-ctx.Done():
		conn.CloseWithError(h3MissingSettings, "no SETTINGS")
		return nil, nil, fmt.Errorf("no SETTINGS from the server within 5 s")
	case <-conn.Context().Done():
		return nil, nil, fmt.Errorf("connection closed before SETTINGS")
	}
}

// connectRequest is an RFC 9220 §3 extended CONNECT.
func connectRequest(authority string, c command) []field {
	protocol := "websocket"
	if c.Protocol != nil {
		protocol = *c.Protocol
	}
	path := c.Path
	if path == "" {
		path = "/echo"
	}
	fields := []field{{":method", "CONNECT"}, {":protocol", protocol}, {":scheme", "https"}, {":authority", authority}, {":path", path}}
	hasVersion := false
	for name, value := range c.Headers {
		name = strings.ToLower(name)
		hasVersion = hasVersion || name == "sec-websocket-version"
		fields = append(fields, field{name, value})
	}
	if !hasVersion {
		fields = append(fields, field{"sec-websocket-version", "13"})
	}
	return fields
}

// openRequest sends the CONNECT and reads the response's field section.
func openRequest(h *h3conn, authority string, c command) (quic.Stream, *bufio.Reader, []field, error) {
	st, err := h.conn.OpenStreamSync(context.Background())
	if err != nil {
		return nil, nil, nil, err
	}
	if err := writeHeaders(st, connectRequest(authority, c)); err != nil {
		return nil, nil, nil, err
	}
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(st)
	fields, err := readFieldSection(r)
	st.SetReadDeadline(time.Time{})
	if err != nil {
		st.CancelWrite(h3RequestCancelled)
		st.CancelRead(h3RequestCancelled)
		return nil, nil, nil, fmt.Errorf("no response: %w", err)
	}
	return st, r, fields, nil
}

// readBody reads a refusal's body (bounded, with a deadline) for the report.
func readBody(st quic.Stream, r *bufio.Reader) string {
	st.SetReadDeadline(time.Now().Add(2 * time.Second))
	body, _ := io.ReadAll(io.LimitReader(&dataReader{r: r}, 4096))
	st.CancelRead(h3NoError)
	return string(body)
}

func runClient(addr, caFile string) error {
	h, settings, err := dialH3(addr, caFile, func(id uint64) { emit(event{"event": "goaway", "id": id}) })
	if err != nil {
		return err
	}
	report := map[string]uint64{}
	for id, v := range settings {
		report[fmt.Sprintf("0x%x", id)] = v
	}
	emit(event{"event": "settings", "settings": report})
	authority := "localhost" + addr[strings.LastIndex(addr, ":"):]
	var ss sessions
	next := 0
	readCommands(func(c command) error {
		if c.Cmd != "connect" {
			return sessionCommand(ss.get(c.Session), c)
		}
		// RFC 9220 §3: no extended CONNECT before the server enabled it.
		if settings[settingEnableConnect] != 1 {
			return fmt.Errorf("the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1")
		}
		st, r, fields, err := openRequest(h, authority, c)
		if err != nil {
			return err
		}
		next++
		status, _ := fieldValue(fields, ":status")
		e := event{"event": "response", "session": next, "status": status, "headers": fieldMap(fields)}
		if status != "200" {
			e["body"] = readBody(st, r)
			st.Close()
			emit(e)
			return nil
		}
		emit(e)
		s := newSession(next, st, r, true, false)
		ss.add(s)
		go s.run()
		return nil
	})
	h.conn.CloseWithError(h3NoError, "client done")
	return nil
}
