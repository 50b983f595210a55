package tempcontrolplane

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// TestEtcdJSONGateway: etcd's documented JSON gateway (/v3/... over HTTPS)
// answers. The gateway dials its own member with the server certificate, so
// that certificate needs ClientAuth too (docs/assets.md); with ServerAuth only
// every call failed with "code 14 ... broken pipe".
func TestEtcdJSONGateway(t *testing.T) {
	info := transport.TLSInfo{
		CertFile:      assets.Path(shared.assetDir, assets.EtcdHealthcheckCert),
		KeyFile:       assets.Path(shared.assetDir, assets.EtcdHealthcheckKey),
		TrustedCAFile: assets.Path(shared.assetDir, assets.EtcdCACert),
	}
	tc, err := info.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	// key "/" base64: a range over nothing in particular, answered by any member.
	resp, err := c.Post(shared.EtcdEndpoint()+"/v3/kv/range", "application/json", bytes.NewBufferString(`{"key":"Lw=="}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"header"`) {
		t.Errorf("gateway answered %d: %s", resp.StatusCode, body)
	}
}
