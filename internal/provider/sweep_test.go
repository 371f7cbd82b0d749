package provider

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

// Sweepers delete what interrupted acceptance runs left behind: what
// acctest.Audit lists for acctest.NamePrefix, the one definition of what a
// run creates, and of that only objects whose own name starts with the
// prefix where they have one. `make sweep` runs them against the local
// emulator; by hand: `go test ./internal/provider -v -sweep=us-east-1` with
// AWS_ENDPOINT_URL (or real AWS credentials) set.
//
// Order: scaling policies and scheduled actions (the emulator keeps them
// after their group is gone), then groups (their lifecycle hooks go with
// them) and clones that outlived their group, launch templates, alarms,
// listener rules, then master target groups; then images and snapshots, and
// sync policies (SSM parameters and documents). Registrations go with the
// clones and target groups; the sweepers never touch a seeded object.
func init() {
	resource.AddTestSweepers("clone_pool_scaling", &resource.Sweeper{Name: "clone_pool_scaling", F: sweepScaling})
	resource.AddTestSweepers("clone_pool", &resource.Sweeper{Name: "clone_pool", F: sweepPools, Dependencies: []string{"clone_pool_scaling"}})
	resource.AddTestSweepers("clone_image", &resource.Sweeper{Name: "clone_image", F: sweepImages, Dependencies: []string{"clone_pool"}})
	resource.AddTestSweepers("clone_sync_policy", &resource.Sweeper{Name: "clone_sync_policy", F: sweepSyncPolicies, Dependencies: []string{"clone_pool"}})
}

// sweepAudit lists what test runs left in region, by kind.
func sweepAudit(ctx context.Context, region string) (*conns.AWSClient, map[string][]acctest.Orphan, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, nil, fmt.Errorf("loading AWS config: %w", err)
	}
	found, err := acctest.Audit(ctx, cfg, acctest.NamePrefix)
	if err != nil {
		return nil, nil, err
	}
	byKind := map[string][]acctest.Orphan{}
	for _, o := range found {
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	return conns.New(cfg, conns.Endpoints{}, nil), byKind, nil
}

func isTestName(name string) bool { return strings.HasPrefix(name, acctest.NamePrefix) }

// swept says what a sweeper deleted, so a sweep run shows its work.
func swept(kind, name string) { fmt.Printf("[sweep] deleted %s %s\n", kind, name) }

// sweepScaling deletes test pools' scaling policies and scheduled actions,
// listed across every group: the emulator keys them by name and keeps them
// after their group is deleted.
func sweepScaling(region string) error {
	ctx := context.Background()
	client, found, err := sweepAudit(ctx, region)
	if err != nil {
		return err
	}
	for _, o := range found[acctest.KindScalingPolicy] {
		if group, name := acctest.SplitGroupScoped(o.ID); isTestName(name) || isTestName(group) {
			if err := pool.DeletePolicy(ctx, client.AutoScaling, group, name); err != nil {
				return err
			}
			swept("scaling policy", name)
		}
	}
	for _, o := range found[acctest.KindScheduledAction] {
		if group, name := acctest.SplitGroupScoped(o.ID); isTestName(name) || isTestName(group) {
			if err := pool.DeleteSchedule(ctx, client.AutoScaling, group, name); err != nil {
				return err
			}
			swept("scheduled action", name)
		}
	}
	return nil
}

// sweepPools deletes test Auto Scaling groups (waiting until their clones
// are terminated), clones left outside a group, launch templates, recovery
// alarms, and master-only target groups after the listener rules that
// forward to them.
func sweepPools(region string) error {
	ctx := context.Background()
	client, found, err := sweepAudit(ctx, region)
	if err != nil {
		return err
	}
	for _, sweep := range []func(context.Context, *conns.AWSClient, map[string][]acctest.Orphan) error{
		sweepGroups, sweepTemplates, sweepAlarms, sweepMasterTargetGroups,
	} {
		if err := sweep(ctx, client, found); err != nil {
			return err
		}
	}
	return nil
}

func sweepGroups(ctx context.Context, client *conns.AWSClient, found map[string][]acctest.Orphan) error {
	for _, o := range found[acctest.KindGroup] {
		if isTestName(o.Name) {
			if err := pool.DeleteGroup(ctx, client.AutoScaling, client.EC2, o.Name, nil); err != nil {
				return err
			}
			swept("Auto Scaling group", o.Name)
		}
	}
	// Clones still alive now left their group before it went.
	live, err := liveClones(ctx, client, found[acctest.KindInstance])
	if err != nil || len(live) == 0 {
		return err
	}
	if _, err := client.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: live}); err != nil && !tfawserr.ErrCodeEquals(err, "InvalidInstanceID.NotFound") {
		return fmt.Errorf("terminating clones %v: %w", live, err)
	}
	swept("clones", strings.Join(live, ", "))
	return nil
}

// liveClones returns which of the clones the audit listed are still
// pending, running, stopping or stopped.
func liveClones(ctx context.Context, client *conns.AWSClient, clones []acctest.Orphan) ([]string, error) {
	var ids, live []string
	for _, o := range clones {
		ids = append(ids, o.ID)
	}
	for batch := range slices.Chunk(ids, 200) {
		out, err := client.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: batch})
		if tfawserr.ErrCodeEquals(err, "InvalidInstanceID.NotFound") {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describing clones %v: %w", batch, err)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				if i.State == nil {
					continue
				}
				switch i.State.Name {
				case ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning,
					ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped:
					live = append(live, aws.ToString(i.InstanceId))
				}
			}
		}
	}
	return live, nil
}

func sweepTemplates(ctx context.Context, client *conns.AWSClient, found map[string][]acctest.Orphan) error {
	for _, o := range found[acctest.KindLaunchTemplate] {
		if isTestName(o.Name) {
			if err := pool.DeleteTemplate(ctx, client.EC2, o.ID); err != nil {
				return err
			}
			swept("launch template", o.Name)
		}
	}
	return nil
}

func sweepAlarms(ctx context.Context, client *conns.AWSClient, found map[string][]acctest.Orphan) error {
	for _, o := range found[acctest.KindAlarm] {
		if isTestName(o.Name) {
			if err := pool.DeleteAlarm(ctx, client.CloudWatch, o.Name); err != nil {
				return err
			}
			swept("alarm", o.Name)
		}
	}
	return nil
}

// sweepMasterTargetGroups deletes the listener rules of test pools (tagged
// as theirs, or forwarding to their master target groups), then those
// target groups.
func sweepMasterTargetGroups(ctx context.Context, client *conns.AWSClient, found map[string][]acctest.Orphan) error {
	for _, o := range found[acctest.KindListenerRule] {
		if err := pool.DeleteRule(ctx, client.ELBV2, o.ID); err != nil {
			return err
		}
		swept("listener rule", o.ID)
	}
	for _, o := range found[acctest.KindTargetGroup] {
		if !isTestName(o.Name) {
			continue
		}
		if err := pool.DeleteTargetGroup(ctx, client.ELBV2, o.ID); err != nil {
			return err
		}
		swept("target group", o.Name)
	}
	return nil
}

// sweepImages deletes test image sets' images with their snapshots, then
// any snapshot of a test set that no image uses any more.
func sweepImages(region string) error {
	ctx := context.Background()
	client, found, err := sweepAudit(ctx, region)
	if err != nil {
		return err
	}
	for _, o := range found[acctest.KindImage] {
		if !isTestName(o.Name) {
			continue
		}
		img, err := imageset.FindImage(ctx, client.EC2, o.ID)
		if err != nil {
			continue
		}
		if err := imageset.Delete(ctx, client.EC2, img); err != nil {
			return err
		}
		swept("image", o.ID+" ("+o.Name+") and its snapshots")
	}
	for _, o := range found[acctest.KindSnapshot] {
		_, err := client.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(o.ID)})
		switch {
		case tfawserr.ErrCodeEquals(err, "InvalidSnapshot.NotFound"):
			// It went with its image.
		case tfawserr.ErrCodeEquals(err, "InvalidSnapshot.InUse"):
			// An image the sweeper must keep (not named as a test's) uses it.
		case err != nil:
			return fmt.Errorf("deleting snapshot %s: %w", o.ID, err)
		default:
			swept("snapshot", o.ID)
		}
	}
	return nil
}

// sweepSyncPolicies deletes every test sync policy found by its SSM
// parameters or by its Run Command document, whichever survived.
func sweepSyncPolicies(region string) error {
	ctx := context.Background()
	client, found, err := sweepAudit(ctx, region)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, o := range found[acctest.KindSSMParameter] {
		// /clone-sync/<name>/<parameter>
		if name := path.Base(path.Dir(o.ID)); isTestName(name) {
			names[name] = true
		}
	}
	for _, o := range found[acctest.KindSSMDocument] {
		if name, ok := strings.CutPrefix(o.ID, syncstore.NamesOf("").Document); ok && isTestName(name) {
			names[name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if err := syncstore.Delete(ctx, client.SSM, name); err != nil {
			return err
		}
		swept("sync policy", name+" (its SSM parameters and document)")
	}
	return nil
}
