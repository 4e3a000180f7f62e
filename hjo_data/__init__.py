"""Pure-Python data layer of the Hjo trygghetsdashboard (never imports streamlit)."""

__all__ = ["__version__"]
__version__ = "0.1.0"
