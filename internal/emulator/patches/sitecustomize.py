# Loaded by the moto_server the emulator package starts (through PYTHONPATH),
# to fix emulator bugs that would otherwise hide real code paths. Each fix
# makes moto behave like AWS; none changes what AWS would answer.

def _fix_launch_template_version_user_data():
    # moto 5.2.1 decodes LaunchTemplateData.UserData for CreateLaunchTemplate
    # but stores it raw for CreateLaunchTemplateVersion, so launching from
    # such a version fails with HTTP 500. AWS treats both the same.
    from moto.core.types import Base64EncodedString
    from moto.ec2.models.launch_templates import LaunchTemplate
    from moto.ec2.utils import parse_user_data

    create_version = LaunchTemplate.create_version

    def create_version_with_decoded_user_data(self, data, *args, **kwargs):
        user_data = data.get("UserData") if isinstance(data, dict) else None
        if user_data is not None and not isinstance(user_data, Base64EncodedString):
            data = dict(data, UserData=parse_user_data(user_data))
        return create_version(self, data, *args, **kwargs)

    LaunchTemplate.create_version = create_version_with_decoded_user_data


def _fix_classic_deregistration():
    # moto 5.2.1 keeps instances that Auto Scaling registered with a classic
    # load balancer apart from those registered by API, and
    # DeregisterInstancesFromLoadBalancer removes only the latter. On AWS it
    # deregisters the instance whoever registered it.
    from moto.elb.models import ELBBackend

    deregister = ELBBackend.deregister_instances

    def deregister_from_both(self, load_balancer_name, instance_ids, from_autoscaling=False):
        instance_ids = list(instance_ids)
        deregister(self, load_balancer_name, instance_ids, from_autoscaling=False)
        return deregister(self, load_balancer_name, instance_ids, from_autoscaling=True)

    ELBBackend.deregister_instances = deregister_from_both


def _fix_lifecycle_hook_specifications():
    # moto 5.2.1 ignores CreateAutoScalingGroup's
    # LifecycleHookSpecificationList. On AWS those hooks exist before the
    # group's first launch.
    from moto.autoscaling.responses import AutoScalingResponse

    create = AutoScalingResponse.create_auto_scaling_group

    def create_with_hooks(self):
        name = self._get_param("AutoScalingGroupName")
        made = []
        for spec in self._get_param("LifecycleHookSpecificationList", []) or []:
            self.autoscaling_backend.create_lifecycle_hook(
                name=spec.get("LifecycleHookName"),
                as_name=name,
                transition=spec.get("LifecycleTransition"),
                timeout=spec.get("HeartbeatTimeout"),
                result=spec.get("DefaultResult"),
            )
            made.append(spec.get("LifecycleHookName"))
        try:
            return create(self)
        except Exception:
            for hook in made:
                self.autoscaling_backend.delete_lifecycle_hook(name, hook)
            raise

    AutoScalingResponse.create_auto_scaling_group = create_with_hooks


def _fix_terminated_instance_addresses():
    # moto 5.2.1 gives a terminated instance's private address back to its
    # subnet only when Python garbage-collects the instance, which the
    # backend keeps (terminated instances stay visible, as on AWS): a subnet
    # runs out of addresses after as many launches as it has addresses,
    # and every later launch fails with HTTP 500. On AWS the address is
    # released with the instance's network interface at termination.
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html
    from moto.ec2.models.instances import Instance

    terminate = Instance.terminate

    def terminate_and_release(self):
        state = terminate(self)
        try:
            subnet = self.ec2_backend.get_subnet(self.subnet_id)
        except Exception:
            return state
        for ip in list(self._private_ips):
            if subnet._subnet_ips.get(ip) is self:
                subnet.del_subnet_ip(ip)
        return state

    Instance.terminate = terminate_and_release


try:
    import moto  # noqa: F401
except ImportError:
    pass
else:
    _fix_launch_template_version_user_data()
    _fix_classic_deregistration()
    _fix_lifecycle_hook_specifications()
    _fix_terminated_instance_addresses()
    import os

    if os.environ.get("CLONE_EMULATOR_STRICT", "").strip().lower() not in ("off", "0", "false", "no"):
        import strict

        strict.install()
    if os.environ.get("CLONE_EMULATOR_ACTIONS_LOG", "").strip():
        import actionlog

        actionlog.install(os.environ["CLONE_EMULATOR_ACTIONS_LOG"].strip())
