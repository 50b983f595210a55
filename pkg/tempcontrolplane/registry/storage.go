package registry

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/value"
)

// StoragePrefix is kube-apiserver's default etcd prefix.
const StoragePrefix = "/registry"

// StorageMediaType is what kube-apiserver writes: protobuf, i.e. values
// starting with "k8s\x00" followed by a runtime.Unknown envelope.
const StorageMediaType = "application/vnd.kubernetes.protobuf"

// restOptionsGetter hands every store the same etcd client with a codec
// and key prefix chosen exactly as kube-apiserver's storage factory would.
type restOptionsGetter struct {
	etcd         *sharedEtcd
	transformers map[schema.GroupResource]value.Transformer
	kinds        map[schema.GroupResource]*kindSpec
}

func (g *restOptionsGetter) GetRESTOptions(gr schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	k, ok := g.kinds[gr]
	if !ok {
		return generic.RESTOptions{}, fmt.Errorf("no storage configured for %s", gr)
	}
	storageVersion := k.gv
	if k.storageGV != nil {
		storageVersion = *k.storageGV
	}
	cfg := storagebackend.NewDefaultConfig(StoragePrefix, nil)
	cfg.Transport = g.etcd.transport
	codec, versioner, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  StorageMediaType,
		StorageSerializer: Codecs,
		StorageVersion:    storageVersion,
		// Objects live in memory as the hub ("__internal") version, which for
		// us is the same Go type as v1.
		MemoryVersion: schema.GroupVersion{Group: k.gv.Group, Version: runtime.APIVersionInternal},
		Config:        *cfg,
	})
	if err != nil {
		return generic.RESTOptions{}, fmt.Errorf("storage codec for %s: %w", gr, err)
	}
	cfg.Codec = codec
	cfg.EncodeVersioner = versioner
	// As kube-apiserver's storage factory: the resource's transformer from
	// the encryption configuration, identity otherwise.
	if t, ok := g.transformers[gr]; ok {
		cfg.Transformer = t
	}
	prefix := k.storagePrefix
	if prefix == "" {
		prefix = k.resource
	}
	return generic.RESTOptions{
		StorageConfig:           cfg.ForResource(gr),
		Decorator:               g.etcd.storageWithCacher(),
		EnableGarbageCollection: true,
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          prefix,
	}, nil
}
