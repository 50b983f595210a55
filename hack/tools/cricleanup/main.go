// Command cricleanup removes every pod sandbox and container a CRI runtime
// knows about, through the CRI API (so the runtime also tears down pod network
// namespaces and releases CNI IP addresses). crictl is not available on the
// test machines; this is the part of it the harness needs.
//
//	cricleanup -address /path/to/containerd.sock [-list]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	address := flag.String("address", "", "CRI socket path (required)")
	list := flag.Bool("list", false, "only list pod sandboxes and containers")
	timeout := flag.Duration("timeout", 2*time.Minute, "overall deadline")
	flag.Parse()
	if *address == "" {
		fmt.Fprintln(os.Stderr, "cricleanup: -address is required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *address, *list); err != nil {
		fmt.Fprintln(os.Stderr, "cricleanup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, address string, list bool) error {
	conn, err := grpc.NewClient("unix://"+address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)

	sbs, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return fmt.Errorf("list pod sandboxes: %w", err)
	}
	ctrs, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	if list {
		for _, s := range sbs.Items {
			fmt.Printf("sandbox %s %s/%s %s\n", s.Id[:13], s.Metadata.Namespace, s.Metadata.Name, s.State)
		}
		for _, c := range ctrs.Containers {
			fmt.Printf("container %s %s sandbox=%s %s\n", c.Id[:13], c.Metadata.Name, c.PodSandboxId[:13], c.State)
		}
		return nil
	}
	// A container the kubelet was creating when it stopped can start after
	// the listing: sweep again until a listing comes back empty (or the
	// deadline), so that the node is really empty.
	var errs []error
	removedCtrs, removedSbs := 0, 0
	for {
		errs = removeAll(ctx, rt, ctrs.Containers, sbs.Items)
		removedCtrs += len(ctrs.Containers)
		removedSbs += len(sbs.Items)
		if sbs, err = rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{}); err != nil {
			return fmt.Errorf("list pod sandboxes: %w", err)
		}
		if ctrs, err = rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{}); err != nil {
			return fmt.Errorf("list containers: %w", err)
		}
		if len(sbs.Items) == 0 && len(ctrs.Containers) == 0 {
			errs = nil // whatever failed on the way is gone now
			break
		}
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("%d containers and %d pod sandboxes left at the deadline", len(ctrs.Containers), len(sbs.Items)))
			break
		}
		time.Sleep(time.Second)
	}
	fmt.Printf("cricleanup: removed %d containers, %d pod sandboxes, %d errors\n", removedCtrs, removedSbs, len(errs))
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, " ", e)
		}
		return fmt.Errorf("%d errors", len(errs))
	}
	return nil
}

// removeAll stops and removes the containers, then the pod sandboxes.
func removeAll(ctx context.Context, rt runtimeapi.RuntimeServiceClient, ctrs []*runtimeapi.Container, sbs []*runtimeapi.PodSandbox) []error {
	var errs []error
	for _, c := range ctrs {
		if _, err := rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id, Timeout: 5}); err != nil {
			errs = append(errs, fmt.Errorf("stop container %s: %w", c.Metadata.Name, err))
		}
		if _, err := rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.Metadata.Name, err))
		}
	}
	for _, s := range sbs {
		name := s.Metadata.Namespace + "/" + s.Metadata.Name
		if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, fmt.Errorf("stop sandbox %s: %w", name, err))
		}
		if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox %s: %w", name, err))
		}
	}
	return errs
}
