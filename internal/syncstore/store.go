package syncstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/logging"

	"github.com/cloneserver/terraform-provider-clone/internal/awstags"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

// InstanceTag is the tag a pool puts on its instances, valued with the
// policy name; "sync now" targets it.
const InstanceTag = "clone:sync-policy"

// RecordVersion is the version of the Record JSON this package writes.
const RecordVersion = 1

// ErrAlreadyExists is returned (wrapped) by CreateRecord when the policy exists.
var ErrAlreadyExists = errors.New("already exists")

// SSMAPI is what LoadPolicy needs; *ssm.Client satisfies it.
type SSMAPI interface {
	GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// API is the part of the SSM client that managing a policy needs.
type API interface {
	SSMAPI
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	AddTagsToResource(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	RemoveTagsFromResource(context.Context, *ssm.RemoveTagsFromResourceInput, ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error)
	ListTagsForResource(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	CreateDocument(context.Context, *ssm.CreateDocumentInput, ...func(*ssm.Options)) (*ssm.CreateDocumentOutput, error)
	UpdateDocument(context.Context, *ssm.UpdateDocumentInput, ...func(*ssm.Options)) (*ssm.UpdateDocumentOutput, error)
	UpdateDocumentDefaultVersion(context.Context, *ssm.UpdateDocumentDefaultVersionInput, ...func(*ssm.Options)) (*ssm.UpdateDocumentDefaultVersionOutput, error)
	DescribeDocument(context.Context, *ssm.DescribeDocumentInput, ...func(*ssm.Options)) (*ssm.DescribeDocumentOutput, error)
	GetDocument(context.Context, *ssm.GetDocumentInput, ...func(*ssm.Options)) (*ssm.GetDocumentOutput, error)
	DeleteDocument(context.Context, *ssm.DeleteDocumentInput, ...func(*ssm.Options)) (*ssm.DeleteDocumentOutput, error)
	SendCommand(context.Context, *ssm.SendCommandInput, ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	GetCommandInvocation(context.Context, *ssm.GetCommandInvocationInput, ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error)
}

// Names are the SSM objects of one policy.
type Names struct {
	KeyParameter    string
	PathsParameter  string
	PolicyParameter string
	Document        string
}

// NamesOf returns the SSM object names of policy name.
func NamesOf(name string) Names {
	prefix := "/clone-sync/" + name + "/"
	return Names{
		KeyParameter:    prefix + "private-key",
		PathsParameter:  prefix + "paths",
		PolicyParameter: prefix + "policy",
		Document:        "clone-sync-" + name,
	}
}

// Record is the policy parameter: every setting of the policy except the
// paths, and the public half of the current key.
type Record struct {
	Version            int     `json:"version"`
	Name               string  `json:"name"`
	MasterInstanceID   string  `json:"master_instance_id"`
	MasterAddress      string  `json:"master_address"`
	SSHUser            string  `json:"ssh_user"`
	SSHPort            int     `json:"ssh_port"`
	Interval           string  `json:"interval"`
	BandwidthLimitKbps int     `json:"bandwidth_limit_kbps"`
	InstallOnMaster    bool    `json:"install_on_master"`
	RotateKeyTrigger   *string `json:"rotate_key_trigger,omitempty"`
	// PublicKey is the current key in authorized_keys form, without options.
	PublicKey      string `json:"public_key"`
	KeyFingerprint string `json:"key_fingerprint"`
	// KeyParameterVersion is the private key parameter's version this
	// provider wrote; any other version means the key was replaced out of band.
	KeyParameterVersion int64 `json:"key_parameter_version"`
	// KMSKeyID is the kms_key_id the private key parameter was written
	// with; empty for the AWS-managed key.
	KMSKeyID string `json:"kms_key_id,omitempty"`
	// KeyParameterKeyID is the KeyId SSM reported for that write, which
	// may spell the key differently from KMSKeyID; empty when unknown.
	KeyParameterKeyID string `json:"key_parameter_key_id,omitempty"`
	// SyncRoot is the rrsync root the public key was issued for.
	SyncRoot       string `json:"sync_root"`
	KeyParameter   string `json:"key_parameter"`
	PathsParameter string `json:"paths_parameter"`
	DocumentName   string `json:"document_name"`
	// Creating marks a policy whose create has not finished: the create
	// writes the policy parameter first with it set and clears it last. A
	// parameter still marked is what an interrupted create (a killed
	// terraform, a lost connection) left, and the next create takes its
	// objects over instead of refusing the name.
	Creating bool `json:"creating,omitempty"`

	// stored is the parameter's value FindRecord read r from, so that
	// PutRecord need not read it again.
	stored string
}

// Policy returns the agent settings of r with paths, after WithDefaults and
// Validate, without lifecycle hook.
func (r Record) Policy(paths []syncagent.Path) (syncagent.Policy, error) {
	interval, err := time.ParseDuration(r.Interval)
	if err != nil {
		return syncagent.Policy{}, fmt.Errorf("sync policy %s: interval %q: %w", r.Name, r.Interval, err)
	}
	p := syncagent.Policy{
		Name:               r.Name,
		MasterAddress:      r.MasterAddress,
		SSHUser:            r.SSHUser,
		SSHPort:            r.SSHPort,
		Interval:           interval,
		BandwidthLimitKbps: r.BandwidthLimitKbps,
		Paths:              paths,
		PathsParameter:     r.PathsParameter,
		KeyParameter:       r.KeyParameter,
	}.WithDefaults()
	if err := p.Validate(); err != nil {
		return syncagent.Policy{}, fmt.Errorf("sync policy %s: %w", r.Name, err)
	}
	return p, nil
}

// LoadPolicy returns the agent settings of policy name with its current
// paths, for a pool to render. AutoScalingGroupName and LifecycleHookName
// are left empty. A missing policy is a notfound.Error.
func LoadPolicy(ctx context.Context, api SSMAPI, name string) (syncagent.Policy, error) {
	r, err := FindRecord(ctx, api, name)
	if err != nil {
		return syncagent.Policy{}, err
	}
	list, err := FindPaths(ctx, api, name)
	if err != nil {
		return syncagent.Policy{}, err
	}
	return r.Policy(list.Paths)
}

// FindRecord reads the policy parameter of name.
func FindRecord(ctx context.Context, api SSMAPI, name string) (Record, error) {
	n := NamesOf(name)
	value, err := getParameter(ctx, api, n.PolicyParameter)
	if err != nil {
		return Record{}, fmt.Errorf("sync policy %s: %w", name, err)
	}
	var r Record
	if err := json.Unmarshal([]byte(value), &r); err != nil {
		return Record{}, fmt.Errorf("sync policy %s: decoding %s: %w", name, n.PolicyParameter, err)
	}
	if r.Version != RecordVersion || r.Name != name {
		return Record{}, fmt.Errorf("sync policy %s: %s holds version %d of policy %q, not a policy this provider wrote", name, n.PolicyParameter, r.Version, r.Name)
	}
	r.stored = value
	return r, nil
}

// FindPaths reads and checks the paths parameter of name. A version 1
// document (no key fingerprint) is returned with an empty KeyFingerprint.
func FindPaths(ctx context.Context, api SSMAPI, name string) (syncagent.PathList, error) {
	n := NamesOf(name)
	value, err := getParameter(ctx, api, n.PathsParameter)
	if err != nil {
		return syncagent.PathList{}, fmt.Errorf("sync policy %s: %w", name, err)
	}
	list, err := syncagent.ParsePathsJSON(value)
	if err != nil {
		return syncagent.PathList{}, fmt.Errorf("sync policy %s: %s: %w", name, n.PathsParameter, err)
	}
	return list, nil
}

func getParameter(ctx context.Context, api SSMAPI, parameter string) (string, error) {
	out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(parameter)})
	if err = notfound.FromCode(err, "parameter", parameter, "ParameterNotFound"); notfound.Is(err) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("reading parameter %s: %w", parameter, err)
	}
	return aws.ToString(out.Parameter.Value), nil
}

// ParameterInfo is a parameter's metadata; finders never read the key's value.
type ParameterInfo struct {
	Type    ssmtypes.ParameterType
	Version int64
	// KeyID is the KMS key of a SecureString as SSM reports it.
	KeyID string
}

// FindParameterInfo returns the metadata of one parameter.
func FindParameterInfo(ctx context.Context, api API, parameter string) (ParameterInfo, error) {
	out, err := api.DescribeParameters(ctx, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{parameter},
		}},
	})
	if err != nil {
		return ParameterInfo{}, fmt.Errorf("describing parameter %s: %w", parameter, err)
	}
	for _, p := range out.Parameters {
		if aws.ToString(p.Name) == parameter {
			return ParameterInfo{Type: p.Type, Version: p.Version, KeyID: aws.ToString(p.KeyId)}, nil
		}
	}
	return ParameterInfo{}, notfound.New("parameter", parameter)
}

// FindDocument returns the content of the policy's document.
func FindDocument(ctx context.Context, api API, name string) (string, error) {
	doc := NamesOf(name).Document
	out, err := api.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String(doc)})
	if err = documentNotFound(err, doc); notfound.Is(err) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("reading document %s: %w", doc, err)
	}
	return aws.ToString(out.Content), nil
}

// documentNotFound classifies SSM's answer for a missing document.
func documentNotFound(err error, doc string) error {
	return notfound.FromCode(err, "document", doc, "InvalidDocument")
}

// CreateRecord writes the policy parameter of a new policy, with tags. It
// claims the name: an existing policy is an error wrapping ErrAlreadyExists.
// It returns r as stored, for PutRecord's comparison.
func CreateRecord(ctx context.Context, api API, r Record, tags map[string]string) (Record, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return Record{}, err
	}
	parameter := NamesOf(r.Name).PolicyParameter
	_, err = api.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(parameter),
		Type:        ssmtypes.ParameterTypeString,
		Value:       aws.String(string(b)),
		Description: aws.String("Settings of clone sync policy " + r.Name + " (terraform-provider-clone)"),
		Tags:        awstags.SSM(tags),
	})
	var exists *ssmtypes.ParameterAlreadyExists
	if errors.As(err, &exists) {
		return Record{}, fmt.Errorf("parameter %s: %w", parameter, ErrAlreadyExists)
	}
	if err != nil {
		return Record{}, fmt.Errorf("writing parameter %s: %w", parameter, err)
	}
	r.stored = string(b)
	return r, nil
}

// PutRecord overwrites the policy parameter unless prior, the Record
// FindRecord returned earlier in the same apply (zero on create), was read
// from the same content. It does not read the parameter again.
func PutRecord(ctx context.Context, api API, r, prior Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if prior.stored == string(b) {
		return nil
	}
	return putParameter(ctx, api, NamesOf(r.Name).PolicyParameter, string(b),
		"Settings of clone sync policy "+r.Name+" (terraform-provider-clone)", ssmtypes.ParameterTierStandard)
}

// PutPaths writes the paths parameter when its content differs or it is
// missing, and reports whether it did. doc is syncagent.PathsJSON of the
// paths and the fingerprint of the key installed for their root.
func PutPaths(ctx context.Context, api API, name, doc string) (bool, error) {
	return putIfChanged(ctx, api, NamesOf(name).PathsParameter, doc,
		"Paths clone sync policy "+name+" mirrors from the master (terraform-provider-clone)", ssmtypes.ParameterTierIntelligentTiering)
}

func putIfChanged(ctx context.Context, api API, parameter, value, description string, tier ssmtypes.ParameterTier) (bool, error) {
	current, err := getParameter(ctx, api, parameter)
	if err != nil && !notfound.Is(err) {
		return false, err
	}
	if err == nil && current == value {
		return false, nil
	}
	if err := putParameter(ctx, api, parameter, value, description, tier); err != nil {
		return false, err
	}
	return true, nil
}

func putParameter(ctx context.Context, api API, parameter, value, description string, tier ssmtypes.ParameterTier) error {
	_, err := api.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(parameter),
		Type:        ssmtypes.ParameterTypeString,
		Value:       aws.String(value),
		Description: aws.String(description),
		Tier:        tier,
		Overwrite:   aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("writing parameter %s: %w", parameter, err)
	}
	return nil
}

// PutPrivateKey writes the private key into the SecureString parameter,
// encrypted with kmsKeyID (empty: DefaultKMSKeyID), and returns the
// parameter's new version. The SDK's request logging is off for the call,
// and the key is cut out of any error text.
func PutPrivateKey(ctx context.Context, api API, name string, privateKeyPEM []byte, kmsKeyID string) (int64, error) {
	parameter := NamesOf(name).KeyParameter
	quiet := logging.RegisterLogger(ctx, logging.NullLogger{})
	out, err := api.PutParameter(quiet, &ssm.PutParameterInput{
		Name:        aws.String(parameter),
		Type:        ssmtypes.ParameterTypeSecureString,
		KeyId:       aws.String(EffectiveKMSKeyID(kmsKeyID)),
		Value:       aws.String(string(privateKeyPEM)),
		Description: aws.String("Private ssh key of clone sync policy " + name + " (terraform-provider-clone)"),
		Overwrite:   aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("writing parameter %s: %s", parameter, Redact(err.Error(), privateKeyPEM))
	}
	return out.Version, nil
}

// Redact removes every line of secret, and secret as a whole in raw and
// JSON-escaped form, from s.
func Redact(s string, secret []byte) string {
	whole := string(secret)
	escaped, _ := json.Marshal(whole)
	s = strings.ReplaceAll(s, whole, "[redacted]")
	s = strings.ReplaceAll(s, strings.Trim(string(escaped), `"`), "[redacted]")
	for line := range strings.SplitSeq(whole, "\n") {
		if len(line) >= 16 {
			s = strings.ReplaceAll(s, line, "[redacted]")
		}
	}
	return s
}

// EnsureDocument creates the policy's Command document or brings its
// content back to content.
func EnsureDocument(ctx context.Context, api API, name, content string, tags map[string]string) error {
	doc := NamesOf(name).Document
	current, err := FindDocument(ctx, api, name)
	switch {
	case notfound.Is(err):
		_, err := api.CreateDocument(ctx, &ssm.CreateDocumentInput{
			Name:           aws.String(doc),
			Content:        aws.String(content),
			DocumentType:   ssmtypes.DocumentTypeCommand,
			DocumentFormat: ssmtypes.DocumentFormatJson,
			Tags:           awstags.SSM(tags),
		})
		if err != nil {
			return fmt.Errorf("creating document %s: %w", doc, err)
		}
		return nil
	case err != nil:
		return err
	case current == content:
		return nil
	}
	out, err := api.UpdateDocument(ctx, &ssm.UpdateDocumentInput{
		Name:            aws.String(doc),
		Content:         aws.String(content),
		DocumentFormat:  ssmtypes.DocumentFormatJson,
		DocumentVersion: aws.String("$LATEST"),
	})
	var dup *ssmtypes.DuplicateDocumentContent
	if errors.As(err, &dup) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating document %s: %w", doc, err)
	}
	_, err = api.UpdateDocumentDefaultVersion(ctx, &ssm.UpdateDocumentDefaultVersionInput{
		Name:            aws.String(doc),
		DocumentVersion: out.DocumentDescription.DocumentVersion,
	})
	if err != nil {
		return fmt.Errorf("making version %s of document %s the default: %w", aws.ToString(out.DocumentDescription.DocumentVersion), doc, err)
	}
	return nil
}

type taggable struct {
	kind ssmtypes.ResourceTypeForTagging
	id   string
}

func (n Names) taggables() []taggable {
	return []taggable{
		{ssmtypes.ResourceTypeForTaggingParameter, n.PolicyParameter},
		{ssmtypes.ResourceTypeForTaggingParameter, n.PathsParameter},
		{ssmtypes.ResourceTypeForTaggingParameter, n.KeyParameter},
		{ssmtypes.ResourceTypeForTaggingDocument, n.Document},
	}
}

// FindTags returns the tags of the policy parameter, which stand for the
// policy's.
func FindTags(ctx context.Context, api API, name string) (map[string]string, error) {
	return listTags(ctx, api, taggable{ssmtypes.ResourceTypeForTaggingParameter, NamesOf(name).PolicyParameter})
}

func listTags(ctx context.Context, api API, t taggable) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: t.kind, ResourceId: aws.String(t.id)})
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s %s: %w", t.kind, t.id, err)
	}
	tags := make(map[string]string, len(out.TagList))
	for _, tag := range out.TagList {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return tags, nil
}

// SyncTags makes want the tags of every object of the policy.
func SyncTags(ctx context.Context, api API, name string, want map[string]string) error {
	for _, t := range NamesOf(name).taggables() {
		if err := retag(ctx, api, t, want); err != nil {
			return err
		}
	}
	return nil
}

// retag makes want the tags of t, removing and adding only what differs.
func retag(ctx context.Context, api API, t taggable, want map[string]string) error {
	have, err := listTags(ctx, api, t)
	if err != nil {
		return err
	}
	set, remove := awstags.Changes(have, want)
	if len(remove) > 0 {
		if _, err := api.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{
			ResourceType: t.kind, ResourceId: aws.String(t.id), TagKeys: remove,
		}); err != nil {
			return fmt.Errorf("removing tags from %s %s: %w", t.kind, t.id, err)
		}
	}
	if len(set) > 0 {
		if _, err := api.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
			ResourceType: t.kind, ResourceId: aws.String(t.id), Tags: awstags.SSM(set),
		}); err != nil {
			return fmt.Errorf("tagging %s %s: %w", t.kind, t.id, err)
		}
	}
	return nil
}

// Delete removes the document and the parameters of policy name; objects
// already gone are not an error.
func Delete(ctx context.Context, api API, name string) error {
	n := NamesOf(name)
	_, err := api.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String(n.Document)})
	if err = documentNotFound(err, n.Document); err != nil && !notfound.Is(err) {
		return fmt.Errorf("deleting document %s: %w", n.Document, err)
	}
	_, err = api.DeleteParameters(ctx, &ssm.DeleteParametersInput{
		Names: []string{n.KeyParameter, n.PathsParameter, n.PolicyParameter},
	})
	if err != nil {
		return fmt.Errorf("deleting parameters of sync policy %s: %w", name, err)
	}
	return nil
}
