"""The flows, one module per group, collected into one registry by name."""

from __future__ import annotations

from assistant.agent.flows import collateral, credit, origination, paperwork, service, shopping
from assistant.agent.flows.base import Collect, Flow, FlowRun

FLOWS: dict[str, Flow] = {flow.name: flow for module in (shopping, credit, paperwork, collateral, service, origination)
                          for flow in module.FLOWS}
TASK_FLOWS = frozenset(name for name, flow in FLOWS.items() if flow.task)

__all__ = ["FLOWS", "TASK_FLOWS", "Collect", "Flow", "FlowRun"]
