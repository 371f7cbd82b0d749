// Command seed creates "the existing single-server system" (VPC, master web
// server, ALB and classic ELB) and writes its ids as terraform.tfvars.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/seed"
)

func main() {
	endpoint := flag.String("endpoint", "", "AWS-compatible endpoint, e.g. http://127.0.0.1:4566 (empty = real AWS)")
	region := flag.String("region", "us-east-1", "AWS region")
	name := flag.String("name", "clone-demo", "name of the seeded system; reused when it exists")
	tfvars := flag.String("tfvars", "", "write the ids as HCL to this file")
	timeout := flag.Duration("timeout", 15*time.Minute, "give up after this long")
	health := flag.Bool("health", false, "print every load balancer target of the seeded system and its health instead of the ids")
	summary := flag.String("summary", "", "print what the clone_pool of this name looks like in the cloud (clones, image, write rule, recovery alarm, disabled services) instead of the ids")
	policy := flag.String("sync-policy", "", "with -summary: the clone_sync_policy to summarise too")
	flag.Parse()

	if err := run(*endpoint, *region, *name, *tfvars, *timeout, *health, *summary, *policy); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(endpoint, region, name, tfvars string, timeout time.Duration, health bool, summary, policy string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
		if !credentialsInEnv() {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("loading AWS configuration: %w", err)
	}

	world, err := seed.Run(ctx, cfg, name)
	if err != nil {
		return err
	}
	if health {
		return printHealth(ctx, cfg, world, os.Stdout)
	}
	if summary != "" {
		return printSummary(ctx, conns.New(cfg, conns.Endpoints{}, nil), world, summary, policy, os.Stdout)
	}
	if tfvars != "" {
		if err := os.MkdirAll(filepath.Dir(tfvars), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(tfvars, []byte(world.TFVars()), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", tfvars, err)
		}
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(world)
}

func credentialsInEnv() bool {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}
