// cert-manager's cainjector for the one-node cluster, built from the
// github.com/cert-manager/cert-manager module (the module proxy does not serve
// the project's own cmd/ modules). It copies the CA of a Certificate into the
// caBundle of every Validating/MutatingWebhookConfiguration annotated
// cert-manager.io/inject-ca-from, which is all Tollgate's
// deploy/components/cert-manager asks of it: no CRD or APIService injection.
// Certificates and Secrets are read in one namespace only, so that needs a
// Role there; webhook configurations are cluster-scoped. One replica, no
// leader election.
//
//	cainjector --namespace=tollgate-system [--kubeconfig=PATH]
//
// (--kubeconfig is controller-runtime's own flag, read by ctrl.GetConfig.)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func main() {
	namespace := flag.String("namespace", "", "the only namespace whose Certificates and Secrets are read (required)")
	klog.InitFlags(nil)
	flag.Parse()
	if *namespace == "" {
		fmt.Fprintln(os.Stderr, "cainjector: --namespace is required")
		os.Exit(2)
	}
	if err := run(ctrl.SetupSignalHandler(), *namespace); err != nil {
		fmt.Fprintf(os.Stderr, "cainjector: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, namespace string) error {
	log := klog.Background().WithName("cainjector")
	ctrl.SetLogger(log)
	config, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	config.UserAgent = "cert-manager-cainjector"

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := cmapi.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme: scheme,
		// Namespaced objects (Certificates, Secrets) are watched in one
		// namespace; cluster-scoped ones (webhook configurations) everywhere.
		Cache: cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		// Secrets are watched by metadata only and their data read directly,
		// so no copy of every Secret's data sits in memory.
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	if err != nil {
		return err
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    namespace,
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	})
	if err != nil {
		return err
	}
	log.Info("starting", "namespace", namespace)
	return mgr.Start(ctx)
}
