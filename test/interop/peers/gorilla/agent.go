// Echo agent (../python/agent_protocol.md) on gorilla/websocket, as client or server.
//
//	agent client [-connections N] [-compress] [-ca FILE] URL
//	agent server [-compress]
//
// Built by the tests with GO111MODULE=off GOPATH=/usr/share/gocode (Debian's
// golang-github-gorilla-websocket-dev), never with module downloads.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// A 1 KiB write buffer makes gorilla send a long message as several frames
// (it flushes one frame per full buffer), which is how cmd:fragment fragments.
const writeBufferSize = 1024

func agent(c *websocket.Conn) {
	c.SetPongHandler(func(data string) error {
		return c.WriteMessage(websocket.TextMessage, []byte("pong:"+data))
	})
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			if closeErr, ok := err.(*websocket.CloseError); ok {
				fmt.Printf("CLOSED %d %s\n", closeErr.Code, closeErr.Text)
			} else {
				fmt.Printf("ERROR %v\n", err)
			}
			c.Close()
			return
		}
		text := string(data)
		if kind == websocket.TextMessage && strings.HasPrefix(text, "cmd:") {
			deadline := time.Now().Add(5 * time.Second)
			switch text {
			case "cmd:fragment":
				w, _ := c.NextWriter(websocket.TextMessage)
				for i := 0; i < 200; i++ {
					w.Write([]byte("fragmented-message"))
				}
				err = w.Close()
			case "cmd:ping":
				err = c.WriteControl(websocket.PingMessage, []byte("agent-ping"), deadline)
			case "cmd:close":
				err = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "peer-bye"), deadline)
			}
		} else {
			err = c.WriteMessage(kind, data)
		}
		if err != nil {
			fmt.Printf("ERROR %v\n", err)
		}
	}
}

func main() {
	connections := flag.Int("connections", 1, "client: WebSockets to open one after another")
	compress := flag.Bool("compress", false, "offer/accept permessage-deflate")
	caFile := flag.String("ca", "", "client: CA certificate for wss://")
	flag.CommandLine.Parse(os.Args[2:])
	switch os.Args[1] {
	case "client":
		url := flag.Arg(0)
		dialer := websocket.Dialer{EnableCompression: *compress, WriteBufferSize: writeBufferSize, HandshakeTimeout: 10 * time.Second}
		if *caFile != "" {
			pem, err := os.ReadFile(*caFile)
			if err != nil {
				panic(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			dialer.TLSClientConfig = &tls.Config{RootCAs: pool}
		}
		for i := 0; i < *connections; i++ {
			c, resp, err := dialer.Dial(url, nil)
			if err != nil {
				fmt.Printf("ERROR dial: %v\n", err)
				os.Exit(1)
			}
			fmt.Printf("EXTENSIONS %s\n", resp.Header.Get("Sec-WebSocket-Extensions"))
			agent(c)
		}
	case "server":
		upgrader := websocket.Upgrader{
			EnableCompression: *compress,
			WriteBufferSize:   writeBufferSize,
			CheckOrigin:       func(*http.Request) bool { return true },
		}
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		fmt.Printf("READY %d\n", listener.Addr().(*net.TCPAddr).Port)
		http.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			agent(c)
		}))
	}
}
