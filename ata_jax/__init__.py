"""ata-jax: a JAX-accelerated, vectorised simulator of adaptive task allocation (ATA)."""

from ata_jax.allocation import allocate, proxy_loss

__all__ = ["allocate", "proxy_loss", "load_sweep"]
__version__ = "0.1.0"


def __getattr__(name):
    if name == "load_sweep":  # imported on first use: `import ata_jax` stays light
        from ata_jax.sweepfile import load_sweep

        return load_sweep
    raise AttributeError(f"module 'ata_jax' has no attribute {name!r}")
