"""The simulated bench as a schedule file describes it: the tip, the process model's constants,
the converters' noise and the part spread, and the integration settings.

Only the simulator (firmware_sim) uses these. They are declared in the bottom layer because
they are sections of the schedule file, which the controller validates whole and whose hash
(in every QA record and window) covers them.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from drivers.config.loader import Strict


class Tip(Strict):
    """Hot thermocompression tip (Mo or W): a resistor the current loops through."""

    cold_resistance_mohm: float = Field(
        4.5, gt=0.0, le=100.0, description="at 20 °C (as materials.toml states resistivity), mΩ"
    )
    mass_mg: float = Field(14.0, gt=0.0, le=10_000.0, description="heated mass, mg")
    sink_conductance_w_k: float = Field(
        0.70, gt=0.0, le=100.0, description="conductance of the tip legs to the holder, W/K"
    )
    contact_length_mm: float = Field(
        0.80, gt=0.0, le=10.0, description="length of wire under the tip face, mm"
    )
    wear_mohm_per_weld: float = Field(
        0.0001, ge=0.0, le=1.0, description="tip resistance gained per weld since dressing, mΩ"
    )


class ProcessModel(Strict):
    """Constants of the process model; defaults are calibrated, see firmware_sim/model.py."""

    metal_contact_w_m2k: float = Field(
        5.0e5, gt=0.0, le=1e9, description="bare metal contact conductance, W/(m²·K)"
    )
    enamel_flow_per_s: float = Field(
        60.0, ge=0.0, le=1e9, description="enamel squeeze-out rate at softening + 1 ΔT, 1/s"
    )
    enamel_flow_span_c: float = Field(
        40.0, gt=0.0, le=1000.0, description="temperature rise that multiplies flow by e, °C"
    )
    enamel_decomposition_per_s: float = Field(
        200.0, ge=0.0, le=1e9, description="enamel burn-off rate at decomposition, 1/s"
    )
    bond_rate_per_s: float = Field(
        6.0e7, ge=0.0, le=1e15, description="solid-state bond rate prefactor, 1/s"
    )
    bond_activation_k: float = Field(
        9000.0, ge=0.0, le=1e6, description="bond activation energy over R, K"
    )
    bond_strain_ref: float = Field(
        0.5, gt=0.0, le=10.0, description="log strain that fully exposes fresh metal"
    )
    bond_strength_mpa: float = Field(
        20.0, gt=0.0, le=2000.0, description="shear strength of a full bond, MPa"
    )
    flow_rate_m_s: float = Field(
        0.05, gt=0.0, le=10.0, description="plastic flow speed at twice the flow load, m/s"
    )
    constraint_factor: float = Field(
        1.15, ge=1.0, le=5.0, description="plane-strain constraint on the flow stress"
    )
    heel_knee_pct: float = Field(
        45.0,
        ge=0.0,
        le=100.0,
        description="set-down below which the wire heel keeps full strength, %",
    )
    overdeform_pct: float = Field(
        80.0, gt=0.0, le=200.0, description="set-down above which the joint is over-deformed, %"
    )
    cut_pct: float = Field(92.0, gt=0.0, le=200.0, description="set-down that cuts the wire, %")
    residue_pct: float = Field(
        85.0, ge=0.0, le=100.0, description="enamel removed below which residue is a defect, %"
    )
    force_ref_n: float = Field(10.0, gt=0.0, le=1000.0, description="reference force, N")
    # direct welding
    film_resistivity_nohm_m2: float = Field(
        0.02, ge=0.0, le=1e6, description="faying-surface film resistivity when cold, nΩ·m²"
    )
    film_decay_c: float = Field(
        150.0, gt=0.0, le=5000.0, description="temperature rise that divides the film by e, °C"
    )
    electrode_film_nohm_m2: float = Field(
        0.01, ge=0.0, le=1e6, description="electrode-contact film resistivity, nΩ·m²"
    )
    electrode_heat_capacity_j_k: float = Field(
        0.05, gt=0.0, le=1e6, description="heat capacity of an electrode tip, J/K"
    )
    electrode_sink_w_k: float = Field(
        2.0, gt=0.0, le=1e6, description="conductance of an electrode to its cooled holder, W/K"
    )
    stick_c: float = Field(
        1000.0,
        gt=0.0,
        le=5000.0,
        description="thermocompression: tip/wire interface temperature that sticks, °C "
        "(direct welding sticks where the electrode face melts: the electrode's solidus)",
    )
    expulsion_melt_fraction: float = Field(
        0.5, gt=0.0, le=1.0, description="molten share of the junction that expels at force_ref_n"
    )
    expulsion_defect_pct: float = Field(
        10.0,
        gt=0.0,
        le=100.0,
        description="share of the junction's metal expelled or boiled off that is the defect, %",
    )
    heated_length_d: float = Field(
        1.0,
        gt=0.0,
        le=10.0,
        description="length of each wire a direct weld's node holds and its current spreads "
        "over, in wire diameters",
    )
    wire_fin_length_mm: float = Field(
        1.0, gt=0.0, le=100.0, description="diffusion length along the wire out of the joint, mm"
    )
    # time at temperature (the heel's softening: thermocompression and direct; creep: TC); the
    # activation energies, the Avrami and stress exponents and the softened strength are the
    # wire's materials data
    heel_softening_half_ms: float = Field(
        40.0,
        gt=0.0,
        le=1e7,
        description="time at heel_softening_ref_c that softens half the heel (JMAK), ms",
    )
    heel_softening_ref_c: float = Field(
        400.0, gt=0.0, le=2000.0, description="reference temperature of that time, °C"
    )
    creep_rate_per_s: float = Field(
        2.0,
        ge=0.0,
        le=1e9,
        description="wire's creep strain rate under the tip at its flow load at creep_ref_c, 1/s",
    )
    creep_ref_c: float = Field(
        400.0, gt=0.0, le=2000.0, description="reference temperature of that rate, °C"
    )


class Noise(Strict):
    """Measurement noise, defects and the tip's wear; all drawn from the seed. The part-to-part
    spread (wire, enamel, terminal, films, placement, force) is configs/variation.toml's."""

    current_full_scale_a: float = Field(5000.0, gt=0.0, description="ADC full scale, A")
    voltage_full_scale_v: float = Field(10.0, gt=0.0, description="ADC full scale, V")
    force_full_scale_n: float = Field(100.0, gt=0.0, description="ADC full scale, N")
    adc_bits: int = Field(16, ge=8, le=24, description="ADC resolution, bits (bipolar)")
    current_noise_a: float = Field(0.5, ge=0.0, description="rms noise, A")
    voltage_noise_v: float = Field(0.001, ge=0.0, description="rms noise, V")
    force_noise_n: float = Field(0.01, ge=0.0, description="rms noise, N")
    position_noise_um: float = Field(0.1, ge=0.0, description="rms noise, µm")
    position_resolution_um: float = Field(0.1, gt=0.0, description="encoder step, µm")
    # Unused: the part spread is configs/variation.toml's. Kept until the shipped windows are
    # taught again, because the schedule's hash (in every window and QA record) covers them.
    wire_diameter_sd_pct: float = Field(0.5, ge=0.0, le=20.0, description="unused (see above)")
    enamel_sd_pct: float = Field(5.0, ge=0.0, le=50.0, description="unused (see above)")
    misplaced_probability: float = Field(0.0, ge=0.0, le=1.0, description="wire off-centre")
    missing_probability: float = Field(0.0, ge=0.0, le=1.0, description="no wire at all")
    welds_since_dressing: int = Field(0, ge=0, le=10_000_000, description="tip wear state")


class Sim(Strict):
    """Integration settings of the simulator."""

    step_us: float = Field(1.0, ge=0.05, le=5.0, description="explicit step, µs")
    output_khz: float = Field(50.0, ge=1.0, le=1000.0, description="monitor sample rate, kHz")
    physics_every: int = Field(
        2,
        ge=1,
        le=10,
        description="output samples per step of heat, enamel and mechanics (20 µs each)",
    )
    ambient_c: float = Field(25.0, ge=-40.0, le=100.0, description="°C")
    max_ms: float = Field(2000.0, gt=0.0, le=60_000.0, description="give up after, ms")

    @model_validator(mode="after")
    def _decimation(self) -> Sim:
        n = 1000.0 / (self.output_khz * self.step_us)
        if abs(n - round(n)) > 1e-9 or round(n) < 1:
            raise ValueError("output period must be a whole number of steps (1000/(kHz·µs))")
        return self
