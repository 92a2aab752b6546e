"""PySide6 + pyqtgraph operator station (subscribes to the controller; never drives hardware)."""
