"""A local stand-in for incident.io: the API incidentflow calls, plus signed webhooks.

    from incidentflow.emulator import create_emulator_app, run_emulator
"""

from incidentflow.emulator.app import DEFAULT_API_KEY, create_emulator_app
from incidentflow.emulator.faults import Fault, FaultPlan
from incidentflow.emulator.server import run_emulator, serve_in_thread
from incidentflow.emulator.state import EmulatorState

__all__ = [
    "DEFAULT_API_KEY",
    "EmulatorState",
    "Fault",
    "FaultPlan",
    "create_emulator_app",
    "run_emulator",
    "serve_in_thread",
]
