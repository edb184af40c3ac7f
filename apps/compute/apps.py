from __future__ import annotations

from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self) -> None:
        # Builds and hosting know nothing of compute: it plugs into their extension points.
        from apps.builds.services import register_output_deployer, register_redeploy_hook
        from apps.compute.publishing import before_redeploy, deploy_build_output
        from apps.compute.routing import ROUTER
        from apps.hosting.services import register_dynamic_router

        register_output_deployer(deploy_build_output)
        register_redeploy_hook(before_redeploy)
        register_dynamic_router(ROUTER)
