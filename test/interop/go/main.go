// Command h3peer is an independent RFC 9220 WebSocket peer on quic-go, for
// trident-ws's interop tests: a client, a server, and a TCP→HTTP/3 bridge.
//
//	h3peer client -connect 127.0.0.1:PORT -ca ca.crt
//	h3peer server -listen 127.0.0.1:0 -cert server.crt -key server.key
//	h3peer bridge -connect 127.0.0.1:PORT -ca ca.crt -listen 127.0.0.1:0
//
// Client and server take one JSON command per line on stdin and report one
// JSON event per line on stdout; each command is answered by
// {"event":"done","cmd":…} or {"event":"failed","cmd":…,"message":…}.
// "session" picks a WebSocket (0 or absent: the newest). stdin's end shuts down.
//
// Commands:
//
//	{"cmd":"connect","path":"/echo","protocol":"websocket","headers":{…}}  client: extended CONNECT
//	{"cmd":"send","type":"text|binary","size":N,"fragments":K}  the agreed pattern (ws.go), in K frames
//	{"cmd":"ping","data":"…"}
//	{"cmd":"close","code":N,"reason":"…"}  code 0: empty close body
//	{"cmd":"abort"}   RESET_STREAM + STOP_SENDING, H3_REQUEST_CANCELLED
//	{"cmd":"reset"}   RESET_STREAM only
//	{"cmd":"goaway"}  server: GOAWAY on every connection
//	{"cmd":"shutdown"}  server: GOAWAY, close 1001, close the connections
//
// Events: settings, response (client), listening/connection/request/open
// (server), message {type,size,sha256,frames}, ping, pong, close {code,reason},
// end (peer's FIN), reset {code} (peer's RESET_STREAM), stop_sending {code}
// (a write failed on the peer's STOP_SENDING), goaway {id}, goaway_sent,
// conn_closed {code,reason,remote}, control_ended (the peer's control stream
// is done: every GOAWAY it carried was reported), protocol_error, shutdown_complete.
//
// The server echoes every message, answers 501 for a :protocol other than
// websocket, and refuses /status/NNN with NNN. The bridge is described in bridge.go.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
)

type event map[string]interface{}

var stdoutMu sync.Mutex

// emit writes one event as a JSON line; whole lines, so events never interleave.
func emit(e event) {
	line, _ := json.Marshal(e)
	stdoutMu.Lock()
	os.Stdout.Write(append(line, '\n'))
	stdoutMu.Unlock()
}

type command struct {
	Cmd       string            `json:"cmd"`
	Session   int               `json:"session"`
	Type      string            `json:"type"`
	Size      int               `json:"size"`
	Fragments int               `json:"fragments"`
	Data      string            `json:"data"`
	Code      int               `json:"code"`
	Reason    string            `json:"reason"`
	Path      string            `json:"path"`
	Protocol  *string           `json:"protocol"`
	Headers   map[string]string `json:"headers"`
}

// readCommands calls handle for each stdin line; stdin's end means "shut down".
func readCommands(handle func(command) error) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<20)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			emit(event{"event": "error", "message": "bad command: " + err.Error()})
			continue
		}
		if err := handle(c); err != nil {
			emit(event{"event": "failed", "cmd": c.Cmd, "message": err.Error()})
		} else {
			emit(event{"event": "done", "cmd": c.Cmd})
		}
	}
}

// sessionCommand runs the commands every session understands.
func sessionCommand(s *wsSession, c command) error {
	if s == nil {
		return fmt.Errorf("no such session")
	}
	switch c.Cmd {
	case "send":
		op := byte(opBinary)
		if c.Type == "text" {
			op = opText
		}
		return s.sendMessage(op, pattern(op == opText, c.Size), c.Fragments)
	case "ping":
		return s.control(opPing, []byte(c.Data))
	case "close":
		return s.close(c.Code, c.Reason)
	case "abort":
		s.abort()
		return nil
	case "reset":
		// RESET_STREAM alone: our direction ends abruptly, we keep reading.
		s.stream.CancelWrite(h3RequestCancelled)
		return nil
	}
	return fmt.Errorf("unknown command %q", c.Cmd)
}

// sessions maps ids to sessions; id 0 in a command means the newest one.
type sessions struct {
	mu   sync.Mutex
	byID map[int]*wsSession
	last int
}

func (m *sessions) add(s *wsSession) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID == nil {
		m.byID = map[int]*wsSession{}
	}
	m.byID[s.id] = s
	if s.id > m.last {
		m.last = s.id
	}
}

func (m *sessions) get(id int) *wsSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id == 0 {
		id = m.last
	}
	return m.byID[id]
}

func (m *sessions) all() []*wsSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*wsSession, 0, len(m.byID))
	for _, s := range m.byID {
		out = append(out, s)
	}
	return out
}

func quicConfig() *quic.Config {
	return &quic.Config{MaxIdleTimeout: 30 * time.Second, KeepAlivePeriod: 5 * time.Second}
}

func clientTLS(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"h3"}}, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: h3peer client|server|bridge [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	connect := fs.String("connect", "", "server address host:port (client, bridge)")
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (server: UDP, bridge: TCP)")
	ca := fs.String("ca", "", "CA certificate (client, bridge)")
	cert := fs.String("cert", "", "certificate (server)")
	key := fs.String("key", "", "private key (server)")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "client":
		err = runClient(*connect, *ca)
	case "server":
		err = runServer(*listen, *cert, *key)
	case "bridge":
		err = runBridge(*listen, *connect, *ca)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		emit(event{"event": "fatal", "message": err.Error()})
		os.Exit(1)
	}
}
