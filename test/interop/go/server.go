package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
)

// server holds the connections and sessions of server mode.
type server struct {
	ss sessions

	mu      sync.Mutex
	conns   []*h3conn
	next    map[*h3conn]uint64 // per connection: the first request stream id not yet processed
	nextID  int
	closing bool
}

func runServer(listen, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	ln, err := quic.ListenAddr(listen, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h3"}}, quicConfig())
	if err != nil {
		return err
	}
	emit(event{"event": "listening", "port": ln.Addr().(*net.UDPAddr).Port})
	srv := &server{next: map[*h3conn]uint64{}}
	go srv.accept(ln)
	readCommands(func(c command) error {
		switch c.Cmd {
		case "goaway":
			srv.goaway()
			return nil
		case "shutdown":
			srv.shutdown(ln)
			return nil
		}
		return sessionCommand(srv.ss.get(c.Session), c)
	})
	srv.shutdown(ln)
	return nil
}

func (srv *server) accept(ln quic.Listener) {
	for id := 1; ; id++ {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			return
		}
		emit(event{"event": "connection", "conn": id})
		h, err := newH3Conn(conn, id, true, nil)
		if err != nil {
			conn.CloseWithError(h3ClosedCritical, err.Error())
			continue
		}
		srv.mu.Lock()
		srv.conns = append(srv.conns, h)
		srv.mu.Unlock()
		go srv.acceptRequests(h)
	}
}

func (srv *server) acceptRequests(h *h3conn) {
	for {
		st, err := h.conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		srv.mu.Lock()
		if id := uint64(st.StreamID()) + 4; id > srv.next[h] {
			srv.next[h] = id
		}
		srv.mu.Unlock()
		go srv.handleRequest(h, st)
	}
}

// validate applies RFC 9220 §3 / RFC 8441 §4: 0 = accept, else the status to answer.
func validate(fields []field) (status int, why string) {
	method, _ := fieldValue(fields, ":method")
	protocol, hasProtocol := fieldValue(fields, ":protocol")
	if method != "CONNECT" {
		return 405, "only extended CONNECT is served here"
	}
	if !hasProtocol {
		return 400, "CONNECT without :protocol"
	}
	for _, name := range []string{":scheme", ":path", ":authority"} {
		if _, ok := fieldValue(fields, name); !ok {
			return 400, "missing " + name
		}
	}
	if !strings.EqualFold(protocol, "websocket") {
		return 501, "unsupported :protocol " + protocol
	}
	if v, _ := fieldValue(fields, "sec-websocket-version"); v != "13" {
		return 400, "sec-websocket-version must be 13"
	}
	// /status/NNN refuses with NNN, so tests can check how a client takes a refusal.
	path, _ := fieldValue(fields, ":path")
	var refuse int
	if _, err := fmt.Sscanf(path, "/status/%d", &refuse); err == nil {
		return refuse, "refused as the path asked"
	}
	return 0, ""
}

func (srv *server) handleRequest(h *h3conn, st quic.Stream) {
	r := bufio.NewReader(st)
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	fields, err := readFieldSection(r)
	st.SetReadDeadline(time.Time{})
	if err != nil {
		st.CancelRead(h3RequestCancelled)
		st.CancelWrite(h3RequestCancelled)
		return
	}
	emit(event{"event": "request", "conn": h.id, "stream": uint64(st.StreamID()), "headers": fieldMap(fields)})
	if status, why := validate(fields); status != 0 {
		writeHeaders(st, []field{{":status", fmt.Sprint(status)}, {"content-type", "text/plain"}})
		st.Write(appendFrame(nil, frameData, []byte(why)))
		st.Close()
		st.CancelRead(h3NoError)
		return
	}
	response := []field{{":status", "200"}}
	if offered, ok := fieldValue(fields, "sec-websocket-protocol"); ok {
		response = append(response, field{"sec-websocket-protocol", strings.TrimSpace(strings.Split(offered, ",")[0])})
	}
	srv.mu.Lock()
	srv.nextID++
	id := srv.nextID
	srv.mu.Unlock()
	if err := writeHeaders(st, response); err != nil {
		return
	}
	s := newSession(id, st, r, false, true)
	srv.ss.add(s)
	s.emit(event{"event": "open", "conn": h.id})
	s.run()
}

// goaway tells every client to open no more requests here (RFC 9114 §5.2).
func (srv *server) goaway() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, h := range srv.conns {
		if err := h.goaway(srv.next[h]); err == nil {
			emit(event{"event": "goaway_sent", "conn": h.id, "id": srv.next[h]})
		}
	}
}

// shutdown: GOAWAY, close every session with 1001 (RFC 6455 §7.4.1 "going
// away"), wait a bounded time for them to end, then close the connections.
func (srv *server) shutdown(ln quic.Listener) {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return
	}
	srv.closing = true
	srv.mu.Unlock()
	srv.goaway()
	deadline := time.After(3 * time.Second)
	for _, s := range srv.ss.all() {
		s.close(1001, "server shutting down")
	}
	for _, s := range srv.ss.all() {
		select {
		case <-s.done:
		case <-deadline:
		}
	}
	srv.mu.Lock()
	for _, h := range srv.conns {
		h.conn.CloseWithError(h3NoError, "server shut down")
	}
	srv.mu.Unlock()
	ln.Close()
	emit(event{"event": "shutdown_complete"})
}
