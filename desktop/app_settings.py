"""What the app remembers between sessions (QSettings): window geometry and splitters, the library folders
added, guidance and seed count, audition volume and output device, whether to offer the models at start. Tests
pass their own file (or none)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

KEYS = ("geometry", "splitter", "folders", "guidance", "seeds", "volume", "device")
MODELS_OFFER_KEY = "models/offer_at_start"  # the first-run model offer; its "Don't ask again" clears it


def open_settings(path: str | None = None) -> QSettings:
    """The user's settings (platform default location), or an INI file at `path`."""
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("cuesteer", "cuesteer-app")


def save_window(window: MainWindow, settings: QSettings) -> None:
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("splitter", window.splitter.saveState())
    settings.setValue("folders", list(window.library_panel.folders))
    settings.setValue("guidance", float(window.steering.guidance.value()))
    settings.setValue("seeds", int(window.steering.seeds.value()))
    settings.setValue("volume", float(window.player.volume))
    settings.setValue("device", "" if window.player.device is None else str(window.player.device))
    settings.sync()


def restore_window(window: MainWindow, settings: QSettings) -> None:
    geometry = settings.value("geometry")
    if isinstance(geometry, QByteArray | bytes):
        window.restoreGeometry(geometry)
    splitter = settings.value("splitter")
    if isinstance(splitter, QByteArray | bytes):
        window.splitter.restoreState(splitter)
    for folder in _strings(settings.value("folders")):
        if folder not in window.library_panel.folders:
            window.library_panel.folders.append(folder)
            window.library_panel.folder_list.addItem(folder)
    window.steering.guidance.setValue(_float(settings.value("guidance"), window.steering.guidance.value()))
    window.steering.seeds.setValue(int(_float(settings.value("seeds"), window.steering.seeds.value())))
    volume = _float(settings.value("volume"), window.player.volume)
    window.player.set_volume(volume)
    window.results.volume.setValue(round(window.player.volume * 100))
    device = settings.value("device")
    if device not in (None, "") and str(device).lstrip("-").isdigit():
        index = window.results.device.findData(int(device))
        if index >= 0:  # the device is still there
            window.results.device.setCurrentIndex(index)


def offer_models_at_start(settings: QSettings) -> bool:
    """True on first run (nothing stored yet) and whenever the user asked to be offered the models again."""
    return _bool(settings.value(MODELS_OFFER_KEY), True)


def set_offer_models_at_start(settings: QSettings, offer: bool) -> None:
    settings.setValue(MODELS_OFFER_KEY, bool(offer))
    settings.sync()


def _bool(value: object, default: bool) -> bool:
    """QSettings' INI files give back "true"/"false" strings; the native stores give bools."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]  # type: ignore[union-attr]


def _float(value: object, default: float) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float(default)
