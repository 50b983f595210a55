package registry

import (
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	etcdkubernetes "go.etcd.io/etcd/client/v3/kubernetes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	cacherstorage "k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/tools/cache"

	"github.com/bootstrap-k8s/bootstrap/pkg/etcdutil"
)

// sharedEtcd is the one etcd client of all the registry's stores.
//
// k8s.io/apiserver's storage factory dials a client per resource and blocks
// until its connection is up. That made the build wait for etcd: a
// restored member accepts TCP connections but completes no TLS handshake
// until it has elected itself, and after that the ~30 stores connected one
// after another (0.3 s of a recovery's critical path, measured: the
// temporary apiserver served 0.2-0.5 s after etcd did). With one client that
// connects in the background, the stores, the API groups and the OpenAPI
// spec are built while etcd still elects itself; requests wait for the
// connection (etcd's client waits for ready by default) and the watch
// caches fill as soon as etcd serves.
type sharedEtcd struct {
	transport storagebackend.TransportConfig

	mu        sync.Mutex
	client    *etcdkubernetes.Client
	compactor compactor
	refs      int
}

// compactor is what etcd3.StartCompactorPerEndpoint returns.
type compactor interface {
	etcd3.Compactor
	Stop()
}

// dialBackoff bounds how late the client notices an etcd that starts
// listening after it: gRPC's default waits 1 s after the first refused
// dial, growing to 2 min.
var dialBackoff = grpc.WithConnectParams(grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 250 * time.Millisecond},
	MinConnectTimeout: 20 * time.Second,
})

// acquire returns the client (dialled on first use, without waiting for a
// connection) and the compactor (started by the first user whose interval
// is not 0: all stores share the default config's 5 min), counting one
// more user.
func (e *sharedEtcd) acquire(interval time.Duration) (*etcdkubernetes.Client, etcd3.Compactor, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client == nil {
		tlsConfig, err := transport.TLSInfo{CertFile: e.transport.CertFile, KeyFile: e.transport.KeyFile, TrustedCAFile: e.transport.TrustedCAFile}.ClientConfig()
		if err != nil {
			return nil, nil, fmt.Errorf("etcd client TLS: %w", err)
		}
		c, err := etcdkubernetes.New(clientv3.Config{
			Endpoints:            e.transport.ServerList,
			TLS:                  tlsConfig,
			DialTimeout:          20 * time.Second,
			DialKeepAliveTime:    30 * time.Second,
			DialKeepAliveTimeout: 10 * time.Second,
			DialOptions:          []grpc.DialOption{dialBackoff},
			Logger:               etcdutil.Logger(),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("etcd client for %v: %w", e.transport.ServerList, err)
		}
		c.KV = etcd3.NewETCDLatencyTracker(c.KV)
		e.client = c
	}
	if e.compactor == nil && interval > 0 {
		e.compactor = etcd3.StartCompactorPerEndpoint(e.client.Client, interval)
	}
	e.refs++
	if e.compactor == nil {
		return e.client, nil, nil // a nil interface, not a nil pointer in one
	}
	return e.client, e.compactor, nil
}

// release drops one user; the last one stops the compactor and closes the
// client.
func (e *sharedEtcd) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refs--
	if e.refs > 0 || e.client == nil {
		return
	}
	if e.compactor != nil {
		e.compactor.Stop()
		e.compactor = nil
	}
	_ = e.client.Close()
	e.client = nil
}

// rawStorage is the storage factory's etcd3 store of one resource, on the
// shared client: the same transformer, decoder and versioner.
func (e *sharedEtcd) rawStorage(c *storagebackend.ConfigForResource, newFunc, newListFunc func() runtime.Object, resourcePrefix string) (storage.Interface, factory.DestroyFunc, error) {
	client, compactor, err := e.acquire(c.CompactionInterval)
	if err != nil {
		return nil, nil, err
	}
	transformer := c.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	versioner := storage.APIObjectVersioner{}
	decoder := etcd3.NewDefaultDecoder(c.Codec, versioner)
	store, err := etcd3.New(client, compactor, c.Codec, newFunc, newListFunc, c.Prefix, resourcePrefix, c.GroupResource, transformer, c.LeaseManagerConfig, decoder, versioner)
	if err != nil {
		e.release()
		return nil, nil, err
	}
	var once sync.Once
	// The stores' destroy functions run more than once (subresources
	// share them) when the apiserver stops.
	return store, func() {
		once.Do(func() {
			store.Close()
			e.release()
		})
	}, nil
}

// storageWithCacher is genericregistry.StorageWithCacher on the shared
// client: each resource's store behind its watch cache.
func (e *sharedEtcd) storageWithCacher() generic.StorageDecorator {
	return func(c *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(runtime.Object) (string, error),
		newFunc, newListFunc func() runtime.Object, attrs storage.AttrFunc, triggers storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		raw, destroyRaw, err := e.rawStorage(c, newFunc, newListFunc, resourcePrefix)
		if err != nil {
			return nil, nil, err
		}
		cacher, err := cacherstorage.NewCacherFromConfig(cacherstorage.Config{
			Storage:             raw,
			Versioner:           storage.APIObjectVersioner{},
			GroupResource:       c.GroupResource,
			EventsHistoryWindow: c.EventsHistoryWindow,
			ResourcePrefix:      resourcePrefix,
			KeyFunc:             keyFunc,
			NewFunc:             newFunc,
			NewListFunc:         newListFunc,
			GetAttrsFunc:        attrs,
			IndexerFuncs:        triggers,
			Indexers:            indexers,
			Codec:               c.Codec,
		})
		if err != nil {
			destroyRaw()
			return nil, nil, err
		}
		delegator := cacherstorage.NewCacheDelegator(cacher, raw)
		var once sync.Once
		return delegator, func() {
			once.Do(func() {
				delegator.Stop()
				cacher.Stop()
				destroyRaw()
			})
		}, nil
	}
}
