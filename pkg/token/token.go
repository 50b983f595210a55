package token

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// Usages a token may have (kubeadm's names).
const (
	UsageSigning        = "signing"
	UsageAuthentication = "authentication"
)

// DefaultTTL is how long a new token is valid unless told otherwise (kubeadm's default).
const DefaultTTL = 24 * time.Hour

// DefaultUsages are the usages a join token needs.
var DefaultUsages = []string{UsageSigning, UsageAuthentication}

// Options describe a token to create.
type Options struct {
	// Token is the token to create; empty generates a random one.
	Token string
	// TTL is how long it is valid; 0 means it never expires.
	TTL time.Duration
	// Usages are UsageSigning and/or UsageAuthentication.
	Usages []string
	// Groups are extra groups the token authenticates as
	// (system:bootstrappers:...); only with the authentication usage.
	Groups []string
	// Description is stored with the token.
	Description string
}

// Token is one bootstrap token as stored in its Secret.
type Token struct {
	ID string `json:"id"`
	// Secret is the token's secret part; set only by Create.
	Secret      string     `json:"secret,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	Usages      []string   `json:"usages"`
	Groups      []string   `json:"groups,omitempty"`
	Description string     `json:"description,omitempty"`
}

// String is the full token "id.secret" (empty without the secret).
func (t *Token) String() string {
	if t.Secret == "" {
		return ""
	}
	return bootstraputil.TokenFromIDAndSecret(t.ID, t.Secret)
}

// Validate checks options before anything is created; errors are marked
// invalid configuration.
func (o *Options) Validate() error {
	var errs []error
	if o.Token != "" && !bootstraputil.IsValidBootstrapToken(o.Token) {
		errs = append(errs, fmt.Errorf("--token %q is not a bootstrap token: want 6 and 16 characters of [a-z0-9] joined by a dot, e.g. abcdef.0123456789abcdef (leave it out to generate one)", o.Token))
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("--ttl %s is negative: give a duration such as 24h, or 0 for a token that never expires", o.TTL))
	}
	if len(o.Usages) == 0 {
		errs = append(errs, fmt.Errorf("--usages is empty: give %s and/or %s", UsageSigning, UsageAuthentication))
	}
	auth := false
	for _, u := range o.Usages {
		switch u {
		case UsageSigning:
		case UsageAuthentication:
			auth = true
		default:
			errs = append(errs, fmt.Errorf("--usages: unknown usage %q: use %s and/or %s", u, UsageSigning, UsageAuthentication))
		}
	}
	for _, g := range o.Groups {
		if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
			errs = append(errs, fmt.Errorf("--groups: %v", err))
		}
	}
	if len(o.Groups) > 0 && !auth {
		errs = append(errs, fmt.Errorf("--groups %s need the %s usage: groups are what the token authenticates as", strings.Join(o.Groups, ","), UsageAuthentication))
	}
	return failure.InvalidConfig(errors.Join(errs...))
}

// Create stores a new token's Secret (now is the time its TTL counts from).
// An existing token of the same ID is not replaced.
func Create(ctx context.Context, cs kubernetes.Interface, o Options, now time.Time) (*Token, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tok := o.Token
	if tok == "" {
		var err error
		if tok, err = bootstraputil.GenerateBootstrapToken(); err != nil {
			return nil, fmt.Errorf("generating a token: %w", err)
		}
	}
	id, secret, _ := strings.Cut(tok, ".")
	t := &Token{ID: id, Secret: secret, Usages: sortedCopy(o.Usages), Groups: sortedCopy(o.Groups), Description: o.Description}
	data := map[string][]byte{
		bootstrapapi.BootstrapTokenIDKey:     []byte(id),
		bootstrapapi.BootstrapTokenSecretKey: []byte(secret),
	}
	if o.Description != "" {
		data[bootstrapapi.BootstrapTokenDescriptionKey] = []byte(o.Description)
	}
	if o.TTL > 0 {
		exp := now.Add(o.TTL).UTC().Truncate(time.Second)
		t.Expires = &exp
		data[bootstrapapi.BootstrapTokenExpirationKey] = []byte(exp.Format(time.RFC3339))
	}
	for _, u := range t.Usages {
		data[bootstrapapi.BootstrapTokenUsagePrefix+u] = []byte("true")
	}
	if len(t.Groups) > 0 {
		data[bootstrapapi.BootstrapTokenExtraGroupsKey] = []byte(strings.Join(t.Groups, ","))
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		Data:       data,
	}
	if _, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, failure.InvalidConfig(fmt.Errorf("a token with ID %s exists already: delete it first (bootstrap token delete %s) or give another --token", id, id))
		}
		return nil, fmt.Errorf("creating the Secret of token %s: %w", id, err)
	}
	return t, nil
}

// List returns every bootstrap token of the cluster (without secrets),
// ordered by ID. Secrets of the type that do not parse are skipped.
func List(ctx context.Context, cs kubernetes.Interface) ([]Token, error) {
	l, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{
		FieldSelector: "type=" + string(bootstrapapi.SecretTypeBootstrapToken),
	})
	if err != nil {
		return nil, fmt.Errorf("listing bootstrap tokens: %w", err)
	}
	var out []Token
	for i := range l.Items {
		if t, ok := fromSecret(&l.Items[i]); ok {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Delete removes a token given by ID or as the full token.
func Delete(ctx context.Context, cs kubernetes.Interface, idOrToken string) error {
	id := idOrToken
	if strings.Contains(idOrToken, ".") {
		if !bootstraputil.IsValidBootstrapToken(idOrToken) {
			return failure.InvalidConfig(fmt.Errorf("%q is neither a token ID nor a token (abcdef or abcdef.0123456789abcdef)", idOrToken))
		}
		id, _, _ = strings.Cut(idOrToken, ".")
	} else if !bootstraputil.IsValidBootstrapTokenID(id) {
		return failure.InvalidConfig(fmt.Errorf("%q is not a token ID: want 6 characters of [a-z0-9] (see bootstrap token list)", idOrToken))
	}
	err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, bootstraputil.BootstrapTokenSecretName(id), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return failure.InvalidConfig(fmt.Errorf("no token with ID %s (bootstrap token list shows the tokens)", id))
	}
	if err != nil {
		return fmt.Errorf("deleting token %s: %w", id, err)
	}
	return nil
}

func fromSecret(s *corev1.Secret) (Token, bool) {
	get := func(k string) string { return string(s.Data[k]) }
	id := get(bootstrapapi.BootstrapTokenIDKey)
	if s.Type != bootstrapapi.SecretTypeBootstrapToken || id == "" || s.Name != bootstraputil.BootstrapTokenSecretName(id) {
		return Token{}, false
	}
	t := Token{ID: id, Description: get(bootstrapapi.BootstrapTokenDescriptionKey), Usages: []string{}}
	if e := get(bootstrapapi.BootstrapTokenExpirationKey); e != "" {
		if exp, err := time.Parse(time.RFC3339, e); err == nil {
			t.Expires = &exp
		}
	}
	for k, v := range s.Data {
		if u, ok := strings.CutPrefix(k, bootstrapapi.BootstrapTokenUsagePrefix); ok && string(v) == "true" {
			t.Usages = append(t.Usages, u)
		}
	}
	sort.Strings(t.Usages)
	if g := get(bootstrapapi.BootstrapTokenExtraGroupsKey); g != "" {
		t.Groups = strings.Split(g, ",")
	}
	return t, true
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
