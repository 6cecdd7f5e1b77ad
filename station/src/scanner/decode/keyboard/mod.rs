//! Keyboard-wedge decoding: turns the key presses of a scanner or card reader that acts as a USB
//! keyboard back into the text it meant to type. Two inputs are accepted: Linux evdev key
//! events (what the station reads from a grabbed `/dev/input/event*` device) and 8-byte HID boot
//! keyboard reports (what hidraw delivers). Both go through one key map per keyboard layout the
//! scanner may be programmed for, because a scanner set to "German keyboard" presses the keys a
//! German typist would.
//!
//! It deliberately does not model a full keyboard: no CapsLock (a scanner never sends it during
//! a scan, and the PC keyboard's CapsLock state cannot reach a grabbed device; scanners send Shift
//! themselves), no NumLock (the keypad is read as digits, as scanners emit it), no compose
//! sequences, no Alt+keypad codes, and no Shift+AltGr level. Keys it cannot place type U+FFFD,
//! so the core calls the scan a misread instead of guessing. It does no IO.

use std::fmt;
use std::str::FromStr;

use super::Payload;
use super::framing::Framing;

/// The keyboard layout a wedge scanner is programmed for (its "keyboard country").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// US English (QWERTY).
    Us,
    /// United Kingdom (QWERTY; `"` on Shift+2, `@` on Shift+', `#` beside Enter).
    Uk,
    /// German (QWERTZ: Y and Z swapped, `-` where US has `/`, `^` a dead key).
    De,
    /// French (AZERTY: the top row types digits only with Shift).
    Fr,
    /// Spanish (QWERTY; `^` a dead key on Shift, `ñ` where US has `;`).
    Es,
}

impl Layout {
    const ALL: [Layout; 5] = [Layout::Us, Layout::Uk, Layout::De, Layout::Fr, Layout::Es];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Us => "us",
            Layout::Uk => "uk",
            Layout::De => "de",
            Layout::Fr => "fr",
            Layout::Es => "es",
        }
    }

    /// What `code` (a Linux key code) types at each level, if this layout has the key.
    fn levels(self, code: u16) -> Option<Levels> {
        let specific = match self {
            Layout::Us => us(code),
            Layout::Uk => uk(code),
            Layout::De => de(code),
            Layout::Fr => fr(code),
            Layout::Es => es(code),
        };
        specific
            .or_else(|| qwerty_letter(code).map(|c| k(c, c.to_ascii_uppercase())))
            .or_else(|| shared(self, code))
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layout {
    type Err = UnknownLayout;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Layout::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownLayout(s.to_owned()))
    }
}

/// A layout name that is not one of the supported layouts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown keyboard layout {0:?}: expected one of us, uk, de, fr, es")]
pub struct UnknownLayout(pub String);

/// Linux input event key codes (`linux/input-event-codes.h`) used here. They name physical key
/// positions by the US legend, whatever the layout prints on them.
mod key {
    pub(super) const N1: u16 = 2;
    pub(super) const N2: u16 = 3;
    pub(super) const N3: u16 = 4;
    pub(super) const N4: u16 = 5;
    pub(super) const N5: u16 = 6;
    pub(super) const N6: u16 = 7;
    pub(super) const N7: u16 = 8;
    pub(super) const N8: u16 = 9;
    pub(super) const N9: u16 = 10;
    pub(super) const N0: u16 = 11;
    pub(super) const MINUS: u16 = 12;
    pub(super) const EQUAL: u16 = 13;
    pub(super) const TAB: u16 = 15;
    pub(super) const Q: u16 = 16;
    pub(super) const W: u16 = 17;
    pub(super) const E: u16 = 18;
    pub(super) const Y: u16 = 21;
    pub(super) const LEFTBRACE: u16 = 26;
    pub(super) const RIGHTBRACE: u16 = 27;
    pub(super) const ENTER: u16 = 28;
    pub(super) const LEFTCTRL: u16 = 29;
    pub(super) const A: u16 = 30;
    pub(super) const SEMICOLON: u16 = 39;
    pub(super) const APOSTROPHE: u16 = 40;
    pub(super) const GRAVE: u16 = 41;
    pub(super) const LEFTSHIFT: u16 = 42;
    pub(super) const BACKSLASH: u16 = 43;
    pub(super) const Z: u16 = 44;
    pub(super) const M: u16 = 50;
    pub(super) const COMMA: u16 = 51;
    pub(super) const DOT: u16 = 52;
    pub(super) const SLASH: u16 = 53;
    pub(super) const RIGHTSHIFT: u16 = 54;
    pub(super) const KPASTERISK: u16 = 55;
    pub(super) const LEFTALT: u16 = 56;
    pub(super) const SPACE: u16 = 57;
    pub(super) const CAPSLOCK: u16 = 58;
    pub(super) const NUMLOCK: u16 = 69;
    pub(super) const KP7: u16 = 71;
    pub(super) const KP8: u16 = 72;
    pub(super) const KP9: u16 = 73;
    pub(super) const KPMINUS: u16 = 74;
    pub(super) const KP4: u16 = 75;
    pub(super) const KP5: u16 = 76;
    pub(super) const KP6: u16 = 77;
    pub(super) const KPPLUS: u16 = 78;
    pub(super) const KP1: u16 = 79;
    pub(super) const KP2: u16 = 80;
    pub(super) const KP3: u16 = 81;
    pub(super) const KP0: u16 = 82;
    pub(super) const KPDOT: u16 = 83;
    /// The extra key left of Z on ISO (105-key) keyboards.
    pub(super) const K102ND: u16 = 86;
    pub(super) const KPENTER: u16 = 96;
    pub(super) const RIGHTCTRL: u16 = 97;
    pub(super) const KPSLASH: u16 = 98;
    /// AltGr on every layout here.
    pub(super) const RIGHTALT: u16 = 100;
    pub(super) const KPEQUAL: u16 = 117;
    pub(super) const LEFTMETA: u16 = 125;
    pub(super) const RIGHTMETA: u16 = 126;
}

/// HID boot keyboard usage IDs (HID Usage Tables, page 0x07) 0x00 to 0x67, mapped to Linux key
/// codes the way the kernel's `hid-input.c` does. Going through Linux codes keeps one key map for
/// both inputs, including the kernel's choice to give usage 0x31 (US `\`) and 0x32 (the ISO key
/// beside Enter, `#` on UK and German keyboards) the same code.
#[rustfmt::skip]
const USAGE_TO_KEY: [u8; 0x68] = [
      0,   0,   0,   0,  30,  48,  46,  32,  18,  33,  34,  35,  23,  36,  37,  38, // 0x00: a..l
     50,  49,  24,  25,  16,  19,  31,  20,  22,  47,  17,  45,  21,  44,   2,   3, // 0x10: m..z 1 2
      4,   5,   6,   7,   8,   9,  10,  11,  28,   1,  14,  15,  57,  12,  13,  26, // 0x20: 3..0 Enter Esc BS Tab Space - = [
     27,  43,  43,  39,  40,  41,  51,  52,  53,  58,  59,  60,  61,  62,  63,  64, // 0x30: ] \ # ; ' ` , . / Caps F1..F6
     65,  66,  67,  68,  87,  88,  99,  70, 119, 110, 102, 104, 111, 107, 109, 106, // 0x40: F7..F12, navigation
    105, 108, 103,  69,  98,  55,  74,  78,  96,  79,  80,  81,  75,  76,  77,  71, // 0x50: arrows, NumLock, keypad
     72,  73,  82,  83,  86, 127, 116, 117,                                         // 0x60: KP8 KP9 KP0 KP. ISO-\ ...
];

/// The Linux key code of a HID keyboard usage; 0 (no key) for usages this decoder does not map.
fn usage_to_key(usage: u8) -> u16 {
    match usage {
        0xe0..=0xe7 => MODIFIER_KEYS[usize::from(usage - 0xe0)],
        _ => USAGE_TO_KEY.get(usize::from(usage)).map_or(0, |&k| u16::from(k)),
    }
}

/// Modifier bits as in byte 0 of a boot keyboard report; evdev modifier keys set the same bits.
mod modifier {
    pub(super) const LEFT_CTRL: u8 = 0x01;
    pub(super) const LEFT_SHIFT: u8 = 0x02;
    pub(super) const LEFT_ALT: u8 = 0x04;
    pub(super) const LEFT_GUI: u8 = 0x08;
    pub(super) const RIGHT_CTRL: u8 = 0x10;
    pub(super) const RIGHT_SHIFT: u8 = 0x20;
    pub(super) const RIGHT_ALT: u8 = 0x40;
    pub(super) const RIGHT_GUI: u8 = 0x80;
}

/// The modifier keys in bit order: HID usages 0xE0 to 0xE7 and modifier bits 0 to 7.
const MODIFIER_KEYS: [u16; 8] = [
    key::LEFTCTRL,
    key::LEFTSHIFT,
    key::LEFTALT,
    key::LEFTMETA,
    key::RIGHTCTRL,
    key::RIGHTSHIFT,
    key::RIGHTALT,
    key::RIGHTMETA,
];

fn modifier_bit(code: u16) -> Option<u8> {
    MODIFIER_KEYS.iter().position(|&k| k == code).map(|i| 1 << i)
}

/// What one key level types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Char(char),
    /// A dead key: on the PC it waits for the next key to combine with. Scanners type a literal
    /// accent as the dead key followed by Space, so the decoder emits the accent at once and
    /// swallows one Space right after it.
    Dead(char),
    Nothing,
}

/// What a key types plain, with Shift, and with AltGr.
type Levels = [Sym; 3];

const fn k(plain: char, shift: char) -> Levels {
    [Sym::Char(plain), Sym::Char(shift), Sym::Nothing]
}

const fn g(plain: char, shift: char, altgr: char) -> Levels {
    [Sym::Char(plain), Sym::Char(shift), Sym::Char(altgr)]
}

/// The letter on a key of the three letter rows of a QWERTY keyboard.
fn qwerty_letter(code: u16) -> Option<char> {
    const ROWS: [(u16, &str); 3] =
        [(key::Q, "qwertyuiop"), (key::A, "asdfghjkl"), (key::Z, "zxcvbnm")];
    ROWS.iter()
        .find_map(|&(first, letters)| letters.chars().nth(usize::from(code.checked_sub(first)?)))
}

/// Keys that type the same on every layout: Space and the keypad (NumLock assumed on, as
/// scanners that use the keypad expect).
fn shared(layout: Layout, code: u16) -> Option<Levels> {
    let plain = |c| [Sym::Char(c), Sym::Nothing, Sym::Nothing];
    Some(match code {
        key::SPACE => [Sym::Char(' '), Sym::Char(' '), Sym::Nothing],
        key::KP0 => plain('0'),
        key::KP1 => plain('1'),
        key::KP2 => plain('2'),
        key::KP3 => plain('3'),
        key::KP4 => plain('4'),
        key::KP5 => plain('5'),
        key::KP6 => plain('6'),
        key::KP7 => plain('7'),
        key::KP8 => plain('8'),
        key::KP9 => plain('9'),
        // The German keypad has a decimal comma.
        key::KPDOT => plain(if layout == Layout::De { ',' } else { '.' }),
        key::KPSLASH => plain('/'),
        key::KPASTERISK => plain('*'),
        key::KPMINUS => plain('-'),
        key::KPPLUS => plain('+'),
        key::KPEQUAL => plain('='),
        _ => return None,
    })
}

/// US English, as xkb `us` on a 105-key keyboard.
fn us(code: u16) -> Option<Levels> {
    Some(match code {
        key::N1 => k('1', '!'),
        key::N2 => k('2', '@'),
        key::N3 => k('3', '#'),
        key::N4 => k('4', '$'),
        key::N5 => k('5', '%'),
        key::N6 => k('6', '^'),
        key::N7 => k('7', '&'),
        key::N8 => k('8', '*'),
        key::N9 => k('9', '('),
        key::N0 => k('0', ')'),
        key::MINUS => k('-', '_'),
        key::EQUAL => k('=', '+'),
        key::LEFTBRACE => k('[', '{'),
        key::RIGHTBRACE => k(']', '}'),
        key::SEMICOLON => k(';', ':'),
        key::APOSTROPHE => k('\'', '"'),
        key::GRAVE => k('`', '~'),
        key::BACKSLASH => k('\\', '|'),
        key::COMMA => k(',', '<'),
        key::DOT => k('.', '>'),
        key::SLASH => k('/', '?'),
        key::K102ND => k('<', '>'),
        _ => return None,
    })
}

/// United Kingdom, as xkb `gb`: US with a handful of keys moved.
fn uk(code: u16) -> Option<Levels> {
    Some(match code {
        key::N2 => k('2', '"'),
        key::N3 => k('3', '£'),
        key::N4 => g('4', '$', '€'),
        key::APOSTROPHE => k('\'', '@'),
        key::GRAVE => g('`', '¬', '|'),
        key::BACKSLASH => k('#', '~'),
        key::K102ND => k('\\', '|'),
        _ => return us(code),
    })
}

/// German, as xkb `de` (QWERTZ, with dead keys).
fn de(code: u16) -> Option<Levels> {
    Some(match code {
        key::N1 => k('1', '!'),
        key::N2 => k('2', '"'),
        key::N3 => k('3', '§'),
        key::N4 => k('4', '$'),
        key::N5 => k('5', '%'),
        key::N6 => k('6', '&'),
        key::N7 => g('7', '/', '{'),
        key::N8 => g('8', '(', '['),
        key::N9 => g('9', ')', ']'),
        key::N0 => g('0', '=', '}'),
        key::MINUS => g('ß', '?', '\\'),
        key::EQUAL => [Sym::Dead('´'), Sym::Dead('`'), Sym::Nothing],
        key::Q => g('q', 'Q', '@'),
        key::E => g('e', 'E', '€'),
        key::Y => k('z', 'Z'),
        key::LEFTBRACE => k('ü', 'Ü'),
        key::RIGHTBRACE => g('+', '*', '~'),
        key::SEMICOLON => k('ö', 'Ö'),
        key::APOSTROPHE => k('ä', 'Ä'),
        key::GRAVE => [Sym::Dead('^'), Sym::Char('°'), Sym::Nothing],
        key::BACKSLASH => k('#', '\''),
        key::Z => k('y', 'Y'),
        key::COMMA => k(',', ';'),
        key::DOT => k('.', ':'),
        key::SLASH => k('-', '_'),
        key::K102ND => g('<', '>', '|'),
        _ => return None,
    })
}

/// French, as xkb `fr` (AZERTY). Digits need Shift; `-` and `_` are unshifted on 6 and 8.
fn fr(code: u16) -> Option<Levels> {
    Some(match code {
        key::N1 => k('&', '1'),
        key::N2 => g('é', '2', '~'),
        key::N3 => g('"', '3', '#'),
        key::N4 => g('\'', '4', '{'),
        key::N5 => g('(', '5', '['),
        key::N6 => g('-', '6', '|'),
        key::N7 => g('è', '7', '`'),
        key::N8 => g('_', '8', '\\'),
        key::N9 => g('ç', '9', '^'),
        key::N0 => g('à', '0', '@'),
        key::MINUS => g(')', '°', ']'),
        key::EQUAL => g('=', '+', '}'),
        key::Q => k('a', 'A'),
        key::W => k('z', 'Z'),
        key::E => g('e', 'E', '€'),
        key::LEFTBRACE => [Sym::Dead('^'), Sym::Dead('¨'), Sym::Nothing],
        key::RIGHTBRACE => g('$', '£', '¤'),
        key::A => k('q', 'Q'),
        key::SEMICOLON => k('m', 'M'),
        key::APOSTROPHE => k('ù', '%'),
        key::GRAVE => k('²', '~'),
        key::BACKSLASH => k('*', 'µ'),
        key::Z => k('w', 'W'),
        key::M => k(',', '?'),
        key::COMMA => k(';', '.'),
        key::DOT => k(':', '/'),
        key::SLASH => k('!', '§'),
        key::K102ND => k('<', '>'),
        _ => return None,
    })
}

/// Spanish, as xkb `es` (with dead keys).
fn es(code: u16) -> Option<Levels> {
    Some(match code {
        key::N1 => g('1', '!', '|'),
        key::N2 => g('2', '"', '@'),
        key::N3 => g('3', '·', '#'),
        key::N4 => g('4', '$', '~'),
        key::N5 => k('5', '%'),
        key::N6 => g('6', '&', '¬'),
        key::N7 => k('7', '/'),
        key::N8 => k('8', '('),
        key::N9 => k('9', ')'),
        key::N0 => k('0', '='),
        key::MINUS => g('\'', '?', '\\'),
        key::EQUAL => k('¡', '¿'),
        key::E => g('e', 'E', '€'),
        key::LEFTBRACE => [Sym::Dead('`'), Sym::Dead('^'), Sym::Char('[')],
        key::RIGHTBRACE => g('+', '*', ']'),
        key::SEMICOLON => k('ñ', 'Ñ'),
        key::APOSTROPHE => [Sym::Dead('´'), Sym::Dead('¨'), Sym::Char('{')],
        key::GRAVE => g('º', 'ª', '\\'),
        key::BACKSLASH => g('ç', 'Ç', '}'),
        key::COMMA => k(',', ';'),
        key::DOT => k('.', ':'),
        key::SLASH => k('-', '_'),
        key::K102ND => k('<', '>'),
        _ => return None,
    })
}

/// Turns key presses into payloads. Enter (main or keypad) or Tab ends a payload; the framing's
/// prefix and AIM identifier are stripped as for serial scanners, and its `max_len` counts
/// characters. Its `suffix` is not used: a keyboard's terminator is a key, not bytes.
#[derive(Debug, Clone)]
pub struct KeyboardDecoder {
    layout: Layout,
    framing: Framing,
    text: String,
    chars: usize,
    /// A payload overflowed and was handed over; keys are dropped up to the next terminator.
    discarding: bool,
    /// The last key typed was a dead key; a Space now only made it literal.
    after_dead_key: bool,
    /// Modifier bits held, from evdev events.
    evdev_mods: u8,
    /// Usages down in the last boot report that was not an error report.
    boot_keys: [u8; 6],
}

impl KeyboardDecoder {
    pub fn new(layout: Layout, framing: Framing) -> Self {
        Self {
            layout,
            framing,
            text: String::new(),
            chars: 0,
            discarding: false,
            after_dead_key: false,
            evdev_mods: 0,
            boot_keys: [0; 6],
        }
    }

    /// Feeds one `EV_KEY` event: `value` 1 is a press, 0 a release, 2 an auto-repeat. Repeats are
    /// ignored: the kernel makes them when a key stays down, and a scanner that stalls mid-scan
    /// must not type its last character again.
    pub fn push_evdev(&mut self, code: u16, value: i32) -> Option<Payload> {
        if let Some(bit) = modifier_bit(code) {
            match value {
                1 => self.evdev_mods |= bit,
                0 => self.evdev_mods &= !bit,
                _ => {}
            }
            return None;
        }
        if value != 1 {
            return None;
        }
        let mods = self.evdev_mods;
        self.press(code, mods)
    }

    /// Feeds one boot keyboard input report: byte 0 modifier bits, byte 1 reserved, bytes 2 to 7
    /// the usages of the keys down. A key is pressed when its usage appears and was not in the
    /// previous report, which is why scanners send an all-keys-up report between two equal
    /// characters. Reports whose slots say ErrorRollOver (0x01), POSTFail (0x02) or
    /// ErrorUndefined (0x03) tell nothing about which keys are down and are ignored. Bytes past
    /// the eighth are ignored; a report with no slots means every key is up.
    ///
    /// A scanner presses one key per report, so one report ends at most one payload; should a
    /// report ever complete two, the first is returned.
    pub fn push_boot_report(&mut self, report: &[u8]) -> Option<Payload> {
        let (&mods, rest) = report.split_first()?;
        let slots = rest.get(1..).unwrap_or_default();
        let slots = &slots[..slots.len().min(6)];
        if slots.iter().any(|u| (0x01..=0x03).contains(u)) {
            return None;
        }
        let mut out = None;
        for (i, &usage) in slots.iter().enumerate() {
            if usage == 0 || self.boot_keys.contains(&usage) || slots[..i].contains(&usage) {
                continue;
            }
            let payload = self.press(usage_to_key(usage), mods);
            out = out.or(payload);
        }
        self.boot_keys = [0; 6];
        self.boot_keys[..slots.len()].copy_from_slice(slots);
        out
    }

    /// Forgets the payload in progress and every key and modifier held, for example after the
    /// device was unplugged between a key-down and its key-up.
    pub fn reset(&mut self) {
        self.text.clear();
        self.chars = 0;
        self.discarding = false;
        self.after_dead_key = false;
        self.evdev_mods = 0;
        self.boot_keys = [0; 6];
    }

    fn press(&mut self, code: u16, mods: u8) -> Option<Payload> {
        match code {
            key::ENTER | key::KPENTER | key::TAB => {
                self.after_dead_key = false;
                return self.end_payload();
            }
            key::CAPSLOCK | key::NUMLOCK => return None,
            _ if modifier_bit(code).is_some() => return None,
            _ => {}
        }
        if std::mem::take(&mut self.after_dead_key) && code == key::SPACE {
            return None;
        }
        let c = match self.symbol(code, mods) {
            Sym::Char(c) => c,
            Sym::Dead(c) => {
                self.after_dead_key = true;
                c
            }
            Sym::Nothing => char::REPLACEMENT_CHARACTER,
        };
        self.push_char(c)
    }

    fn symbol(&self, code: u16, mods: u8) -> Sym {
        use modifier::{
            LEFT_ALT, LEFT_CTRL, LEFT_GUI, LEFT_SHIFT, RIGHT_ALT, RIGHT_CTRL, RIGHT_GUI,
            RIGHT_SHIFT,
        };
        let shift = mods & (LEFT_SHIFT | RIGHT_SHIFT) != 0;
        let ctrl = mods & (LEFT_CTRL | RIGHT_CTRL) != 0;
        let alt = mods & LEFT_ALT != 0;
        // Windows treats Ctrl+Alt as AltGr, and scanners made for Windows may send it that way.
        let altgr = mods & RIGHT_ALT != 0 || (ctrl && alt);
        // Ctrl or Alt alone, or a GUI key, makes a shortcut, not a character.
        if mods & (LEFT_GUI | RIGHT_GUI) != 0 || (!altgr && (ctrl || alt)) {
            return Sym::Nothing;
        }
        let level = match (shift, altgr) {
            (false, false) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (true, true) => return Sym::Nothing,
        };
        self.layout.levels(code).map_or(Sym::Nothing, |levels| levels[level])
    }

    fn push_char(&mut self, c: char) -> Option<Payload> {
        if self.discarding {
            return None;
        }
        self.text.push(c);
        self.chars += 1;
        if self.chars > self.framing.overflow_len() {
            // No Enter in sight: hand over what came, as one payload the core will call too
            // long, and drop the rest of it rather than split it into pieces that look like cards.
            self.discarding = true;
            self.chars = 0;
            return Some(Payload { text: std::mem::take(&mut self.text), symbology: None });
        }
        None
    }

    fn end_payload(&mut self) -> Option<Payload> {
        let text = std::mem::take(&mut self.text);
        self.chars = 0;
        if std::mem::take(&mut self.discarding) || text.is_empty() {
            return None;
        }
        Some(self.framing.split(&text))
    }
}

#[cfg(test)]
mod tests;
