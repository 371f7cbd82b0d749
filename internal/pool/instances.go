package pool

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// freshIDWait bounds how long a describe by instance id is retried while EC2
// does not know an id yet. EC2 is eventually consistent: an instance just
// launched, by Auto Scaling or by the user's own configuration, may be
// InvalidInstanceID.NotFound to DescribeInstances for a while.
// https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
const freshIDWait = 30 * time.Second

// retryFresh runs describe until it does not fail with
// InvalidInstanceID.NotFound, for at most freshIDWait; then that error is
// returned as it came.
func retryFresh(ctx context.Context, describe func() error) error {
	var last error
	wctx, cancel := context.WithTimeout(ctx, freshIDWait)
	defer cancel()
	err := wait.For(wctx, wait.Options{Interval: time.Second, MaxInterval: 5 * time.Second}, func(context.Context) (bool, string, error) {
		err := describe()
		if tfawserr.ErrCodeEquals(err, "InvalidInstanceID.NotFound") {
			last = err
			return false, "an instance is not visible to EC2 yet", nil
		}
		return err == nil, "", err
	})
	if wait.IsTimeout(err) && ctx.Err() == nil && last != nil {
		return last
	}
	return err
}

// Master is what the pool and the sync policy need to know about the master
// instance.
type Master struct {
	ID           string
	PrivateIP    string
	VpcID        string
	InstanceType string
}

// FindMaster reads the master instance: one DescribeInstances, retried while
// EC2 does not know the id yet (freshIDWait). A master that does not exist,
// or is shutting down or terminated, is a notfound.Error.
func FindMaster(ctx context.Context, client ec2.DescribeInstancesAPIClient, id string) (Master, error) {
	var out *ec2.DescribeInstancesOutput
	err := retryFresh(ctx, func() (err error) {
		out, err = client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		return err
	})
	if err = notfound.FromCode(err, "master instance", id, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"); err != nil {
		if notfound.Is(err) {
			return Master{}, err
		}
		return Master{}, fmt.Errorf("describing master instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.InstanceId) != id {
				continue
			}
			if i.State != nil && (i.State.Name == ec2types.InstanceStateNameTerminated || i.State.Name == ec2types.InstanceStateNameShuttingDown) {
				return Master{}, &notfound.Error{Kind: "master instance", ID: id, Cause: fmt.Errorf("it is %s", i.State.Name)}
			}
			return Master{ID: id, PrivateIP: aws.ToString(i.PrivateIpAddress), VpcID: aws.ToString(i.VpcId), InstanceType: string(i.InstanceType)}, nil
		}
	}
	return Master{}, notfound.New("master instance", id)
}
