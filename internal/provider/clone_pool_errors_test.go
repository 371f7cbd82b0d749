package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/cloneserver/terraform-provider-clone/internal/acctest"
)

// TestAccClonePool_recoverRefusedNamesTheMaster: CloudWatch refuses the
// recover action on an instance type that does not support it, and its
// error names neither the instance nor its type. The provider's error
// names the action, the alarm, the master and its type, and keeps AWS's
// reason.
func TestAccClonePool_recoverRefusedNamesTheMaster(t *testing.T) {
	name := acctest.RandomName(8)
	world := acctest.World(t, "tf-acc-test-pool-errors")
	c := acctest.Client(t)
	out, err := c.EC2.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String(testAccMasterImage(t, world)), InstanceType: ec2types.InstanceTypeM1Small,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(world.SubnetIDs[0]),
	})
	if err != nil {
		t.Fatalf("launching an m1.small master: %v", err)
	}
	master := aws.ToString(out.Instances[0].InstanceId)
	t.Cleanup(func() {
		_, _ = c.EC2.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{master}})
	})
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckClonePoolDestroy(t, world),
		Steps: []resource.TestStep{{
			Config: testAccClonePoolConfig(t, name, world, 1, `
  master {
    instance_id    = "`+master+`"
    recovery_alarm = true
  }
`),
			ExpectError: regexp.MustCompile(`(?s)recovery\s+alarm.*` + master + `.*m1\.small.*PutMetricAlarm.*not\s+supported`),
		}},
	})
}
