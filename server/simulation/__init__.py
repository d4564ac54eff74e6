"""A simulated office day through the real MQTT contract (`khiu simulate`), for the demo, the chaos run,
tests and benchmarks."""

from server.simulation.runner import SimulationError, Simulator, run_simulation
from server.simulation.settings import SimulatorSettings
from server.simulation.summary import SimulationSummary

__all__ = ["SimulationError", "SimulationSummary", "Simulator", "SimulatorSettings", "run_simulation"]
