"""What a laid-out Qt screen shows cut off: text wider than the room its widget gives it.

Each check measures the text with the widget's own font (`fontMetrics().horizontalAdvance`),
as Qt draws it, against the room the widget's style leaves for it; a screen passes when
`clipped(screen)` is empty.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QStyleOptionFrame,
    QWidget,
)

HEADER_PADDING = 8  # a header section's own margins and the sort arrow's gap, px


def _lines_wider(widget: QWidget, text: str, room: int) -> list[str]:
    fm = widget.fontMetrics()
    return [line for line in text.splitlines() if fm.horizontalAdvance(line) > room]


def _button_room(button: QAbstractButton) -> int:
    opt = QStyleOptionButton()
    opt.initFrom(button)
    opt.text = button.text()
    if isinstance(button, QCheckBox):
        rect = button.style().subElementRect(QStyle.SubElement.SE_CheckBoxContents, opt, button)
    else:
        rect = button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, button)
    return rect.width()


def clipped(screen: QWidget) -> list[str]:
    """Return every text of the visible widgets of `screen` that does not fit its room."""
    out: list[str] = []
    for w in screen.findChildren(QWidget):
        if not w.isVisibleTo(screen) or w.width() <= 0:
            continue
        if isinstance(w, QLabel) and w.text() and not w.wordWrap() and "<" not in w.text():
            room = w.contentsRect().width() - 2 * max(w.margin(), 0) - max(w.indent(), 0)
            out += [f"label {t!r} in {room} px" for t in _lines_wider(w, w.text(), room)]
        elif isinstance(w, QPushButton | QCheckBox) and w.text():
            room = _button_room(w)
            out += [f"button {t!r} in {room} px" for t in _lines_wider(w, w.text(), room)]
        elif isinstance(w, QLineEdit) and w.placeholderText() and not w.text():
            room = (
                w.style()
                .subElementRect(QStyle.SubElement.SE_LineEditContents, _line_opt(w), w)
                .width()
            )
            out += [
                f"placeholder {t!r} in {room} px"
                for t in _lines_wider(w, w.placeholderText(), room)
            ]
        elif isinstance(w, QHeaderView) and w.orientation().name == "Horizontal":
            out += header_clipped(w)
    return out


def _line_opt(edit: QLineEdit) -> QStyleOptionFrame:
    opt = QStyleOptionFrame()
    edit.initStyleOption(opt)
    return opt


def header_clipped(header: QHeaderView) -> list[str]:
    """Return the header sections whose title is wider than the section."""
    model = header.model()
    fm = header.fontMetrics()
    out = []
    for c in range(header.count()):
        if header.isSectionHidden(c):
            continue
        text = str(model.headerData(c, header.orientation()))
        need = fm.horizontalAdvance(text) + HEADER_PADDING
        if need > header.sectionSize(c):
            out.append(f"header {text!r} needs {need} px, has {header.sectionSize(c)}")
    return out


def inside(inner: QRect, outer: QRect) -> bool:
    """True if `inner` lies wholly within `outer`."""
    return outer.contains(inner)
