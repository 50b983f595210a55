package kubeprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Timeout bounds each request of a probe client.
const Timeout = 5 * time.Second

// Client is a clientset whose requests share one connection of their own.
type Client struct {
	kubernetes.Interface
	Host string
	hc   *http.Client
}

// Fresh returns a client for cfg with a new transport: no connection is
// shared with any other client. With a TLS config of its own the transport
// speaks HTTP/1.1, so successive requests (/version, then /readyz) reach
// the same server over the same connection.
func Fresh(cfg *rest.Config) (*Client, error) {
	rt, err := OwnTransport(cfg, false)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: Timeout, Transport: rt}
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &Client{Interface: cs, Host: cfg.Host, hc: hc}, nil
}

// OwnTransport is a transport for cfg that client-go's transport cache
// does not know: its connections are its own. client-go shares one
// transport between clients of equal configs, so a client built the usual
// way can inherit a connection another client's server is closing. With
// http2 it negotiates HTTP/2 as client-go's transports do; without, it
// speaks HTTP/1.1.
func OwnTransport(cfg *rest.Config, http2 bool) (http.RoundTripper, error) {
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return nil, err
	}
	t := &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment}
	if http2 {
		t = utilnet.SetTransportDefaults(t)
	}
	return rest.HTTPWrappersForConfig(cfg, t)
}

// Close closes the client's idle connection.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Version is the server's /version.
func (c *Client) Version() (*version.Info, error) { return c.Discovery().ServerVersion() }

// Ready fails unless /readyz answers 200.
// A /readyz that is not 200 but lists its failing checks ("[-]NAME failed")
// fails with *NotReadyError, which names them.
func (c *Client) Ready(ctx context.Context) error {
	body, err := c.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Raw()
	if err == nil {
		return nil
	}
	if checks := failedChecks(body); len(checks) > 0 {
		return &NotReadyError{Checks: checks, Err: err}
	}
	return err
}

// NotReadyError is a /readyz answer other than 200 with the checks it lists
// as failing (client-go's own error quotes at most 2 KiB of the answer,
// which cuts the list of kube-apiserver's ~50 checks).
type NotReadyError struct {
	Checks []string
	Err    error
}

func (e *NotReadyError) Error() string { return "not ready: " + strings.Join(e.Checks, ", ") }
func (e *NotReadyError) Unwrap() error { return e.Err }

// failedChecks are the names of the "[-]NAME failed: ..." lines of a
// /readyz or /livez answer.
func failedChecks(body []byte) []string {
	var names []string
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "[-]"); ok {
			if name, _, ok := strings.Cut(rest, " failed"); ok {
				names = append(names, name)
			}
		}
	}
	return names
}

// CanRead fails unless the client may read the kube-system namespace:
// /readyz can pass before the RBAC caches hold the roles kube-apiserver
// itself just created, and clients would see 403 for a moment.
func (c *Client) CanRead(ctx context.Context) error {
	_, err := c.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{})
	return err
}

// IsDialError says that nothing listens at the address (as opposed to a
// server that answered, even with an error).
func IsDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// StatusError is an answer other than 200.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// HTTPGetOK fails unless GET url answers 200; a server that answers
// otherwise fails with *StatusError.
func HTTPGetOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &StatusError{Code: resp.StatusCode}
	}
	return nil
}
