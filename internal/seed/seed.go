// Package seed creates "the existing single-server system" that the Clone
// Server pattern starts from: a VPC, one master web server and the load
// balancers in front of it. Running it again with the same name reuses
// everything it made before.
package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const (
	TagSeed = "clone:seed"
	TagRole = "clone:role"

	maxLBNameLen = 32
)

type World struct {
	Name             string   `json:"name"`
	Region           string   `json:"region"`
	VpcID            string   `json:"vpc_id"`
	SubnetIDs        []string `json:"subnet_ids"`
	SecurityGroupID  string   `json:"security_group_id"`
	MasterInstanceID string   `json:"master_instance_id"`
	MasterPrivateIP  string   `json:"master_private_ip"`
	LoadBalancerArn  string   `json:"load_balancer_arn"`
	LoadBalancerDNS  string   `json:"load_balancer_dns"`
	ListenerArn      string   `json:"listener_arn"`
	TargetGroupArn   string   `json:"target_group_arn"`
	TargetGroupName  string   `json:"target_group_name"`
	ClassicELBName   string   `json:"classic_elb_name"`
	// CloneInstanceProfile is the instance profile for the clones: its
	// role holds the clone policy for pools and sync policies named
	// <Name>-*.
	CloneInstanceProfile string `json:"clone_instance_profile"`
}

// Run creates the world called name, or finds and completes the one an earlier
// Run created. cfg carries region, credentials and endpoint.
func Run(ctx context.Context, cfg aws.Config, name string) (*World, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("seed: no region configured")
	}
	s := &seeder{
		name:  name,
		ec2:   ec2.NewFromConfig(cfg),
		elbv2: elbv2.NewFromConfig(cfg),
		elb:   elb.NewFromConfig(cfg),
		iam:   iam.NewFromConfig(cfg),
		w:     &World{Name: name, Region: cfg.Region},
	}
	for _, step := range []func(context.Context) error{
		s.ensureVpc,
		s.ensureInternetRoute,
		s.ensureSubnets,
		s.ensureSecurityGroup,
		s.ensureMaster,
		s.ensureTargetGroup,
		s.ensureLoadBalancer,
		s.ensureListener,
		s.ensureClassicELB,
		s.ensureCloneInstanceProfile,
	} {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("seeding %q: %w", name, err)
		}
	}
	return s.w, nil
}

type seeder struct {
	name  string
	ec2   *ec2.Client
	elbv2 *elbv2.Client
	elb   *elb.Client
	iam   *iam.Client
	w     *World
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$`)

func validateName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("seed name %q: use 1-64 letters, digits and hyphens, not starting or ending with a hyphen", name)
	}
	if strings.HasPrefix(strings.ToLower(name), "internal-") {
		return fmt.Errorf("seed name %q: load balancer names may not start with \"internal-\"", name)
	}
	return nil
}

// resourceName fits name-suffix into a load balancer or target group name
// (32 characters); a shortened name keeps a hash of the full one, so it stays
// unique per seed.
func resourceName(name, suffix string) string {
	if n := name + "-" + suffix; len(n) <= maxLBNameLen {
		return n
	}
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:])[:8]
	keep := maxLBNameLen - len(suffix) - len(hash) - 2
	return strings.TrimRight(name[:keep], "-") + "-" + hash + "-" + suffix
}

// TFVars renders the world as a terraform.tfvars file.
func (w *World) TFVars() string {
	subnets := make([]string, len(w.SubnetIDs))
	for i, id := range w.SubnetIDs {
		subnets[i] = hclString(id)
	}
	vars := [][2]string{
		{"region", hclString(w.Region)},
		{"vpc_id", hclString(w.VpcID)},
		{"subnet_ids", "[" + strings.Join(subnets, ", ") + "]"},
		{"security_group_id", hclString(w.SecurityGroupID)},
		{"master_instance_id", hclString(w.MasterInstanceID)},
		{"target_group_arn", hclString(w.TargetGroupArn)},
		{"listener_arn", hclString(w.ListenerArn)},
		{"classic_elb_name", hclString(w.ClassicELBName)},
		{"clone_instance_profile", hclString(w.CloneInstanceProfile)},
	}
	width := 0
	for _, v := range vars {
		width = max(width, len(v[0]))
	}
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "%-*s = %s\n", width, v[0], v[1])
	}
	return b.String()
}

var hclEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", "$${", "%{", "%%{")

func hclString(s string) string {
	return `"` + hclEscaper.Replace(s) + `"`
}
