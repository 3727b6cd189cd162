package radius

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

// TestServerReadsInBatches queues requests on the server's socket before
// Serve starts, over IPv4 and IPv6 loopback: each is answered, correctly
// signed, to its sender, and the server read them with fewer system calls
// than datagrams (recvmmsg) — or one datagram per read with ReadBatch 1
// (the PostgreSQL store's setting).
func TestServerReadsInBatches(t *testing.T) {
	for _, tc := range []struct {
		network string
		batch   int
	}{{"127.0.0.1", 0}, {"::1", 0}, {"127.0.0.1", 1}} {
		network := tc.network
		t.Run(fmt.Sprintf("%s batch %d", network, tc.batch), func(t *testing.T) {
			const n = 100
			var calls atomic.Int64
			s, err := NewServer(ServerConfig{KeyServer: fixedKeyServer(t, &calls), ReadBatch: tc.batch, Clients: []NASClient{
				{Name: "lo4", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: testSecret},
				{Name: "lo6", Prefix: netip.MustParsePrefix("::1/128"), Secret: testSecret}}})
			if err != nil {
				t.Fatal(err)
			}
			lo := &net.UDPAddr{IP: net.ParseIP(network)}
			conn, err := net.ListenUDP("udp", lo)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			clients := make([]*net.UDPConn, 2) // two senders: answers go to each one's own port
			for i := range clients {
				if clients[i], err = net.ListenUDP("udp", lo); err != nil {
					t.Fatal(err)
				}
				defer clients[i].Close()
			}
			auths := make([][16]byte, n)
			for i := range n {
				auths[i][0], auths[i][1] = byte(i), 0xa5
				b, err := EncodeRequest(testKeyRequest(), uint8(i), auths[i], testNAS, testSecret)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := clients[i%2].WriteTo(b, conn.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, conn) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			}()
			testenv.Eventually(t, 10*time.Second, "every request answered", func() (bool, string) {
				st := s.Stats()
				return st.Accepts == n, fmt.Sprintf("%+v", st)
			})
			buf := make([]byte, maxPacketLen)
			for i := range n {
				c := clients[i%2]
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				m, err := c.Read(buf)
				if err != nil {
					t.Fatalf("answer %d: %v", i, err)
				}
				id := buf[1]
				if int(id)%2 != i%2 {
					t.Fatalf("answer to request %d reached the other sender", id)
				}
				if _, err := VerifyResponse(buf[:m], id, auths[id], testSecret); err != nil {
					t.Fatalf("answer to request %d: %v", id, err)
				}
			}
			st := s.Stats()
			if st.Received != n || st.SendErrors != 0 {
				t.Errorf("%d datagrams received, %d send errors", st.Received, st.SendErrors)
			}
			if batched := tc.batch != 1; batched && st.Reads >= n/2 || !batched && st.Reads < n {
				t.Errorf("ReadBatch %d: %d datagrams in %d reads", tc.batch, st.Received, st.Reads)
			}
		})
	}
}
