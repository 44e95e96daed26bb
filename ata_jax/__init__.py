"""ata-jax: a JAX-accelerated, vectorised simulator of adaptive task allocation (ATA)."""

from ata_jax.allocation import allocate, proxy_loss

__all__ = ["allocate", "proxy_loss"]
__version__ = "0.1.0"
