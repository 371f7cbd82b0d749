package syncstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

// ShellDocument is the AWS-managed document that runs a shell script.
const ShellDocument = "AWS-RunShellScript"

// SyncNowComment and KeyCommandComment start the comment of the commands
// this package sends, so they can be told apart in the command history.
const (
	SyncNowComment    = "clone-sync now: "
	KeyCommandComment = "clone-sync key: "
)

// SendSyncNow runs the policy's document on every instance tagged
// InstanceTag=name, a quarter of them at a time so the master is not
// flooded; one clone failing does not stop the others.
func SendSyncNow(ctx context.Context, api API, name string) (string, error) {
	out, err := api.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName:   aws.String(NamesOf(name).Document),
		Targets:        []ssmtypes.Target{{Key: aws.String("tag:" + InstanceTag), Values: []string{name}}},
		Comment:        aws.String(comment(SyncNowComment + name)),
		MaxConcurrency: aws.String("25%"),
		MaxErrors:      aws.String("100%"),
	})
	if err != nil {
		return "", fmt.Errorf("sending sync now to instances tagged %s=%s: %w", InstanceTag, name, err)
	}
	return aws.ToString(out.Command.CommandId), nil
}

// RunOnMaster sends script to one instance through AWS-RunShellScript.
func RunOnMaster(ctx context.Context, api API, instanceID, name, script string) (string, error) {
	out, err := api.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String(ShellDocument),
		InstanceIds:  []string{instanceID},
		Comment:      aws.String(comment(KeyCommandComment + name)),
		Parameters:   map[string][]string{"commands": {script}},
	})
	if err != nil {
		return "", fmt.Errorf("sending the key script of sync policy %s to %s: %w", name, instanceID, err)
	}
	return aws.ToString(out.Command.CommandId), nil
}

// SSM command comments are limited to 100 characters.
func comment(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}

// WaitCommand waits until the command finished on instanceID and fails
// unless it succeeded.
func WaitCommand(ctx context.Context, api API, commandID, instanceID string, progress func(status string)) error {
	err := wait.For(ctx, wait.Options{Interval: 3 * time.Second, MaxInterval: 15 * time.Second, Progress: progress}, func(ctx context.Context) (bool, string, error) {
		out, err := api.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{
			CommandId: aws.String(commandID), InstanceId: aws.String(instanceID),
		})
		var notYet *ssmtypes.InvocationDoesNotExist
		if errors.As(err, &notYet) {
			return false, "Pending", nil
		}
		if err != nil {
			return false, "", fmt.Errorf("reading command %s on %s: %w", commandID, instanceID, err)
		}
		switch out.Status {
		case ssmtypes.CommandInvocationStatusSuccess:
			return true, string(out.Status), nil
		case ssmtypes.CommandInvocationStatusCancelled, ssmtypes.CommandInvocationStatusTimedOut,
			ssmtypes.CommandInvocationStatusFailed, ssmtypes.CommandInvocationStatusCancelling:
			return false, "", fmt.Errorf("command %s on %s ended %s: %s", commandID, instanceID, out.Status,
				strings.TrimSpace(aws.ToString(out.StandardErrorContent)))
		}
		return false, string(out.Status), nil
	})
	if wait.IsTimeout(err) {
		return fmt.Errorf("waiting for command %s on %s: %w", commandID, instanceID, err)
	}
	return err
}
