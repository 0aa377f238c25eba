// A cert-manager controller for the one-node cluster, built from the
// github.com/cert-manager/cert-manager module (the module proxy does not serve
// the project's own cmd/ modules). It runs only the control loops that
// Tollgate's deploy/components/cert-manager needs: a self-signed Issuer, a CA
// Issuer and Certificates signed by it, with their CertificateRequests
// approved automatically. One replica, so no leader election; scoped to one
// namespace, so it needs a Role there and no ClusterRole.
//
//	controller --namespace=tollgate-system [--kubeconfig=PATH]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"k8s.io/klog/v2"

	// Each of these registers its control loop (or issuer type) in init().
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// workers per control loop; the node has a handful of Certificates.
const workers = 2

func main() {
	namespace := flag.String("namespace", "", "the only namespace to watch (required)")
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file (default: the pod's service account)")
	klog.InitFlags(nil)
	flag.Parse()
	if *namespace == "" {
		fmt.Fprintln(os.Stderr, "controller: --namespace is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *namespace, *kubeconfig); err != nil {
		fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, namespace, kubeconfig string) error {
	log := klog.Background().WithName("cert-manager")
	ctx = logf.NewContext(ctx, log)
	// The values cert-manager's own controller defaults to.
	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         kubeconfig,
		Namespace:          namespace,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: namespace},
		CertificateOptions: controllerpkg.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return err
	}

	known := controllerpkg.Known()
	names := make([]string, 0, len(known))
	for name := range known {
		names = append(names, name)
	}
	slices.Sort(names)
	loops := make(map[string]controllerpkg.Interface, len(names))
	for _, name := range names {
		loop, err := known[name](factory)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		loops[name] = loop
	}

	// The loops asked the shared informer factories for what they watch while
	// they were built; start those informers now, once, for all of them.
	shared, err := factory.Build()
	if err != nil {
		return err
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	log.Info("starting", "namespace", namespace, "controllers", names)

	// A loop that fails stops the others: the pod restarts as a whole.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for name, loop := range loops {
		wg.Go(func() {
			if err := loop.Run(workers, ctx); err != nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return err
	}
	return nil
}
