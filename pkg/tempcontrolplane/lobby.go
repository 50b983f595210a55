package tempcontrolplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// A lobby answers the API port from the moment it is bound until the
// apiserver serves it, when nothing could answer yet: during a recovery's
// restore, etcd is not written and the apiserver not built. A kubelet
// started before the recovery connects meanwhile, and two of its clients
// need opposite treatment:
//
//   - Its informers list and watch. A failed list sends the reflector into
//     a doubling back-off, and a Service informer synced late holds every
//     API pod's container for the kubelet's 10 s pod back-off. So a list, a
//     watch or a write waits in the lobby, and is handed to the apiserver
//     once it serves: to the client it is one slow request.
//   - Its volume reconciler, when it reconstructed volumes at its start,
//     GETs its Node before it mounts anything, static pods' volumes too;
//     held, that GET would hold the etcd static pod the restore needs. So a
//     read of one object (and a non-resource request: health, version,
//     discovery) is answered at once with 503: the reconciler goes on and
//     asks again on its next pass.
//
// Merely bound, the port did neither: connections sat in the backlog and
// that GET waited out two 10 s TLS handshake timeouts (docs/design.md, "The
// listener is bound"). The lobby uses the apiserver's own serving
// certificate and TLS policy, and asks for client certificates as the
// apiserver does, so that a request it hands over is authenticated by the
// apiserver exactly as one that reached it directly. It never answers a
// request with data itself.
type lobby struct {
	srv   *http.Server
	conns chan net.Conn // accepted by acceptUntilHandOff, served by srv
	stop  chan struct{} // closed by close: srv's listener ends
	info  request.RequestInfoFactory

	accepting chan struct{} // closed when acceptUntilHandOff returns
	api       atomic.Pointer[http.Handler]
	released  chan struct{}
	once      sync.Once
	closeOnce sync.Once
}

// lobbyMaxHold bounds how long a request waits in the lobby; it then gets
// 503 with Retry-After, which client-go's rest client retries by itself.
const lobbyMaxHold = 10 * time.Second

// openLobby serves the port's connections until handOff, accepting them
// through tl so that Stop closes them with the apiserver's.
func openLobby(assetDir string, tl *trackingListener) (*lobby, error) {
	cfg, err := lobbyTLS(assetDir)
	if err != nil {
		return nil, err
	}
	l := &lobby{
		conns:     make(chan net.Conn),
		stop:      make(chan struct{}),
		accepting: make(chan struct{}),
		released:  make(chan struct{}),
		info: request.RequestInfoFactory{
			APIPrefixes:          sets.NewString("api", "apis"),
			GrouplessAPIPrefixes: sets.NewString("api"),
		},
	}
	// The same limits as k8s.io/apiserver's own server; its TLS errors
	// (a probe that hangs up) are not the user's business.
	l.srv = &http.Server{
		Handler:           l,
		TLSConfig:         cfg,
		MaxHeaderBytes:    1 << 20,
		ReadHeaderTimeout: 32 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go l.srv.ServeTLS(chanListener{l: l, addr: tl.Addr()}, "", "")
	go l.acceptUntilHandOff(tl)
	return l, nil
}

// lobbyTLS is the apiserver's TLS: its serving pair, its policy, and a
// request (not a demand) for a client certificate signed by the cluster CA.
func lobbyTLS(assetDir string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(assets.Path(assetDir, assets.APIServerCert), assets.Path(assetDir, assets.APIServerKey))
	if err != nil {
		return nil, fmt.Errorf("apiserver serving pair in %s: %w", assetDir, err)
	}
	caPEM, err := readAsset(assetDir, assets.CACert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("asset %s: no certificate in it", assets.Path(assetDir, assets.CACert))
	}
	minTLS, suites, err := tlsPolicy()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   minTLS,
		CipherSuites: suites,
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

func (l *lobby) acceptUntilHandOff(tl *trackingListener) {
	defer close(l.accepting)
	for {
		c, err := tl.Accept()
		if err != nil { // handOff's deadline, or the port closed
			return
		}
		select {
		case l.conns <- c:
		case <-l.stop:
			c.Close()
			return
		}
	}
}

// handOff makes the lobby stop accepting, so that the apiserver takes every
// new connection: an Accept deadline in the past wakes the lobby's pending
// Accept, and is cleared again for the apiserver. The connections the lobby
// accepted stay with it (a client keeps its HTTP/2 connection), and are
// passed through to the apiserver after release.
func (l *lobby) handOff(ln net.Listener) error {
	d, ok := ln.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return fmt.Errorf("listener %T has no deadline", ln)
	}
	if err := d.SetDeadline(time.Now()); err != nil {
		return err
	}
	<-l.accepting
	return d.SetDeadline(time.Time{})
}

// release sends the waiting requests, and every later one on the lobby's
// connections, to api; nil answers them with 503 instead (the apiserver
// will not serve).
func (l *lobby) release(api http.Handler) {
	l.once.Do(func() {
		if api != nil {
			l.api.Store(&api)
		}
		close(l.released)
	})
}

// shutdown ends the lobby gracefully: HTTP/2 clients are told to go away,
// idle connections close; the apiserver's Stop closes the rest.
func (l *lobby) shutdown(ctx context.Context) {
	l.release(nil)
	l.closeOnce.Do(func() { close(l.stop) })
	_ = l.srv.Shutdown(ctx)
}

func (l *lobby) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if api := l.api.Load(); api != nil {
		(*api).ServeHTTP(w, r)
		return
	}
	if !l.mayWait(r) {
		unavailable(w, "", "the temporary apiserver is not serving yet: bootstrap is restoring etcd")
		return
	}
	hold := time.NewTimer(lobbyMaxHold)
	defer hold.Stop()
	select {
	case <-l.released:
		if api := l.api.Load(); api != nil {
			(*api).ServeHTTP(w, r)
			return
		}
		unavailable(w, "1", "the temporary apiserver stopped before it served")
	case <-hold.C:
		unavailable(w, "1", "the temporary apiserver is not serving yet: bootstrap is restoring etcd")
	case <-r.Context().Done():
	}
}

// mayWait: lists, watches and writes wait; a read of one object and a
// non-resource request are answered at once (see lobby).
func (l *lobby) mayWait(r *http.Request) bool {
	info, err := l.info.NewRequestInfo(r)
	if err != nil || !info.IsResourceRequest {
		return false
	}
	return info.Verb != "get"
}

// unavailable writes a 503 Status, as the apiserver would; retryAfter, when
// set, makes client-go retry by itself after that many seconds.
func unavailable(w http.ResponseWriter, retryAfter, msg string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	status := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg,
		Reason: metav1.StatusReasonServiceUnavailable, Code: http.StatusServiceUnavailable,
	}
	_ = json.NewEncoder(w).Encode(&status)
}

// chanListener hands the lobby's server the connections acceptUntilHandOff
// accepted.
type chanListener struct {
	l    *lobby
	addr net.Addr
}

func (c chanListener) Accept() (net.Conn, error) {
	select {
	case conn := <-c.l.conns:
		return conn, nil
	case <-c.l.stop:
		return nil, net.ErrClosed
	}
}

func (c chanListener) Close() error   { return nil } // the port is the apiserver's: Stop closes it
func (c chanListener) Addr() net.Addr { return c.addr }
