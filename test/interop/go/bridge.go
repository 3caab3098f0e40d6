package main

// Bridge mode: each TCP connection becomes one RFC 9220 WebSocket on its own
// QUIC connection, so a raw-socket test suite can speak to an HTTP/3 server.
//
// The TCP client first writes one JSON line, the request
// ({"path": "/echo", "headers": {...}, "protocol": "websocket"}), and reads
// one JSON line back, the response ({"status": "200", "headers": {...}}).
// After a 200, TCP bytes travel as DATA frames on the request stream and back:
// TCP FIN ↔ QUIC FIN, TCP RST ↔ RESET_STREAM + STOP_SENDING (H3_REQUEST_CANCELLED).

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"

	"github.com/lucas-clemente/quic-go"
)

func runBridge(listen, addr, caFile string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	emit(event{"event": "listening", "port": ln.Addr().(*net.TCPAddr).Port})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go bridgeOne(c.(*net.TCPConn), addr, caFile)
		}
	}()
	// The bridge runs until stdin ends.
	io.Copy(io.Discard, os.Stdin)
	ln.Close()
	return nil
}

func reply(tcp *net.TCPConn, status string, fields []field, message string) {
	line, _ := json.Marshal(event{"status": status, "headers": fieldMap(fields), "error": message})
	tcp.Write(append(line, '\n'))
}

func bridgeOne(tcp *net.TCPConn, addr, caFile string) {
	defer tcp.Close()
	in := bufio.NewReader(tcp)
	line, err := in.ReadBytes('\n')
	if err != nil {
		return
	}
	var c command
	if err := json.Unmarshal(line, &c); err != nil {
		reply(tcp, "", nil, "bad request line: "+err.Error())
		return
	}
	h, settings, err := dialH3(addr, caFile, nil)
	if err != nil {
		reply(tcp, "", nil, err.Error())
		return
	}
	defer h.conn.CloseWithError(h3NoError, "bridge done")
	if settings[settingEnableConnect] != 1 {
		reply(tcp, "", nil, "the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1")
		return
	}
	st, r, fields, err := openRequest(h, "localhost"+addr[strings.LastIndex(addr, ":"):], c)
	if err != nil {
		reply(tcp, "", nil, err.Error())
		return
	}
	status, _ := fieldValue(fields, ":status")
	reply(tcp, status, fields, "")
	if status != "200" {
		st.CancelRead(h3NoError)
		st.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { tcpToStream(in, st); done <- struct{}{} }()
	go func() { streamToTCP(r, tcp); done <- struct{}{} }()
	<-done
	<-done
}

func tcpToStream(in *bufio.Reader, st quic.Stream) {
	buf := make([]byte, 16*1024)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := st.Write(appendFrame(nil, frameData, buf[:n])); werr != nil {
				return
			}
		}
		if err == io.EOF {
			st.Close() // TCP FIN → QUIC FIN
			return
		}
		if err != nil {
			st.CancelWrite(h3RequestCancelled) // TCP RST → abort both directions
			st.CancelRead(h3RequestCancelled)
			return
		}
	}
}

func streamToTCP(r *bufio.Reader, tcp *net.TCPConn) {
	_, err := io.Copy(tcp, &dataReader{r: r})
	var opErr *net.OpError
	switch {
	case err == nil:
		tcp.CloseWrite() // QUIC FIN → TCP FIN
	case errors.As(err, &opErr):
		// the TCP side went away; tcpToStream sees it too
	default:
		// RESET_STREAM, a connection error or a malformed frame → TCP RST
		tcp.SetLinger(0)
		tcp.Close()
	}
}
