//! Tests of the keyboard-wedge decoder: recorded and built messages, no network.

use super::*;

const SHIFT: u8 = modifier::LEFT_SHIFT;
const ALTGR: u8 = modifier::RIGHT_ALT;
const UP: [u8; 8] = [0; 8];

fn p(text: &str) -> Payload {
    Payload { text: text.to_owned(), symbology: None }
}

fn boot(layout: Layout, reports: &[[u8; 8]]) -> Vec<Payload> {
    let mut dec = KeyboardDecoder::new(layout, Framing::default());
    reports.iter().filter_map(|r| dec.push_boot_report(r)).collect()
}

fn evdev(layout: Layout, framing: Framing, events: &[(u16, i32)]) -> Vec<Payload> {
    let mut dec = KeyboardDecoder::new(layout, framing);
    events.iter().filter_map(|&(code, value)| dec.push_evdev(code, value)).collect()
}

/// A key tap as a scanner sends it: one report with the key (and modifiers), then all up.
fn tap(mods: u8, usage: u8) -> [[u8; 8]; 2] {
    [[mods, 0, usage, 0, 0, 0, 0, 0], UP]
}

/// Types the taps, then Enter, and checks the one payload that comes out.
fn check(layout: Layout, taps: &[(u8, u8)], expected: &str) {
    let mut reports: Vec<[u8; 8]> = taps.iter().flat_map(|&(m, u)| tap(m, u)).collect();
    reports.extend(tap(0, 0x28));
    assert_eq!(boot(layout, &reports), vec![p(expected)], "{layout} taps {taps:?}");
}

#[test]
fn evdev_stream_from_a_us_wedge_scanner() {
    // The events a wedge scanner on a US layout produces for "Ab-9" then Enter, as evtest
    // lists them: Shift held around the capital, one press and one release per key.
    #[rustfmt::skip]
    let events = [
        (42, 1), (30, 1), (30, 0), (42, 0), // Shift+A
        (48, 1), (48, 0),                   // b
        (12, 1), (12, 0),                   // -
        (10, 1), (10, 0),                   // 9
        (28, 1), (28, 0),                   // Enter
    ];
    assert_eq!(evdev(Layout::Us, Framing::default(), &events), vec![p("Ab-9")]);
}

#[test]
fn evdev_auto_repeat_and_releases_are_ignored() {
    // A stalled scanner: the kernel repeats "7" while it stays down.
    let events = [(8, 1), (8, 2), (8, 2), (8, 0), (9, 1), (9, 0), (96, 1), (96, 0)];
    assert_eq!(evdev(Layout::Us, Framing::default(), &events), vec![p("78")]);
    // Shift auto-repeat does not release it.
    let events = [(42, 1), (42, 2), (4, 1), (4, 0), (42, 0), (4, 1), (4, 0), (15, 1)];
    assert_eq!(evdev(Layout::Us, Framing::default(), &events), vec![p("#3")]);
}

#[test]
fn evdev_altgr_and_right_shift() {
    // German '@' is AltGr+Q; RightShift works like LeftShift.
    #[rustfmt::skip]
    let events = [
        (100, 1), (16, 1), (16, 0), (100, 0), // AltGr+Q
        (54, 1), (16, 1), (16, 0), (54, 0),   // RightShift+Q
        (28, 1),                              // Enter
    ];
    assert_eq!(evdev(Layout::De, Framing::default(), &events), vec![p("@Q")]);
}

#[test]
fn evdev_with_prefix_and_aim() {
    let framing = Framing { prefix: "*".into(), aim_id: true, ..Framing::default() };
    // "*]C012" on a US layout.
    #[rustfmt::skip]
    let events = [
        (42, 1), (9, 1), (9, 0), (42, 0),   // Shift+8 = *
        (27, 1), (27, 0),                   // ]
        (42, 1), (46, 1), (46, 0), (42, 0), // Shift+C
        (11, 1), (11, 0),                   // 0
        (2, 1), (2, 0),                     // 1
        (3, 1), (3, 0),                     // 2
        (28, 1), (28, 0),                   // Enter
    ];
    let out = evdev(Layout::Us, framing, &events);
    assert_eq!(out, vec![Payload { text: "12".into(), symbology: Some("]C0".into()) }]);
}

#[test]
fn boot_reports_with_key_up_between_repeated_characters() {
    // ";1100=25?" then Enter on a US layout, in the form a keyboard-emulation swipe reader
    // sends it: each key in its own report, an all-up report after each.
    #[rustfmt::skip]
    let reports = [
        [0x00, 0, 0x33, 0, 0, 0, 0, 0], UP, // ;
        [0x00, 0, 0x1e, 0, 0, 0, 0, 0], UP, // 1
        [0x00, 0, 0x1e, 0, 0, 0, 0, 0], UP, // 1
        [0x00, 0, 0x27, 0, 0, 0, 0, 0], UP, // 0
        [0x00, 0, 0x27, 0, 0, 0, 0, 0], UP, // 0
        [0x00, 0, 0x2e, 0, 0, 0, 0, 0], UP, // =
        [0x00, 0, 0x1f, 0, 0, 0, 0, 0], UP, // 2
        [0x00, 0, 0x22, 0, 0, 0, 0, 0], UP, // 5
        [0x02, 0, 0x38, 0, 0, 0, 0, 0], UP, // LeftShift + / = ?
        [0x00, 0, 0x28, 0, 0, 0, 0, 0], UP, // Enter
    ];
    assert_eq!(boot(Layout::Us, &reports), vec![p(";1100=25?")]);
    // Without the key-up report a held key is not pressed again.
    #[rustfmt::skip]
    let held = [
        [0, 0, 0x1e, 0, 0, 0, 0, 0],
        [0, 0, 0x1e, 0, 0, 0, 0, 0],
        [0, 0, 0x28, 0, 0, 0, 0, 0],
    ];
    assert_eq!(boot(Layout::Us, &held), vec![p("1")]);
    // A new key while the old one is still down is a press; the order in the slots counts.
    #[rustfmt::skip]
    let rolled = [
        [0, 0, 0x1e, 0, 0, 0, 0, 0],
        [0, 0, 0x1e, 0x1f, 0, 0, 0, 0],
        [0, 0, 0x28, 0, 0, 0, 0, 0],
    ];
    assert_eq!(boot(Layout::Us, &rolled), vec![p("12")]);
}

#[test]
fn boot_rollover_error_reports_are_ignored() {
    let reports = [
        [0, 0, 0x1e, 0, 0, 0, 0, 0],
        [0, 0, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01], // ErrorRollOver
        [0, 0, 0x1e, 0x1f, 0, 0, 0, 0],             // 1 is still the one from before
        UP,
        [0, 0, 0x28, 0, 0, 0, 0, 0],
    ];
    assert_eq!(boot(Layout::Us, &reports), vec![p("12")]);
}

#[test]
fn unknown_keys_type_a_replacement_character() {
    // F1 (0x3a), Escape (0x29), and a usage past the table (0x90).
    check(Layout::Us, &[(0, 0x1e), (0, 0x3a), (0, 0x29), (0, 0x90)], "1\u{fffd}\u{fffd}\u{fffd}");
    // Ctrl+J (a scanner sending a control character), Alt+1, GUI+1, Shift+AltGr+1.
    check(Layout::Us, &[(0x01, 0x0d), (0x04, 0x1e), (0x08, 0x1e)], "\u{fffd}\u{fffd}\u{fffd}");
    check(Layout::De, &[(SHIFT | ALTGR, 0x1e)], "\u{fffd}");
    // AltGr on US has no third level.
    check(Layout::Us, &[(ALTGR, 0x14)], "\u{fffd}");
}

#[test]
fn terminators_and_empty_payloads() {
    // Tab ends a payload too; Enter with nothing typed makes none.
    let reports = [tap(0, 0x28), tap(0, 0x1e), tap(0, 0x2b), tap(0, 0x58)].concat();
    assert_eq!(boot(Layout::Us, &reports), vec![p("1")]);
    // Keypad digits and keypad Enter, as some scanners send in "keypad emulation".
    let reports = [tap(0, 0x59), tap(0, 0x62), tap(0, 0x63), tap(0, 0x58)].concat();
    assert_eq!(boot(Layout::Us, &reports), vec![p("10.")]);
    assert_eq!(boot(Layout::De, &reports), vec![p("10,")]);
    // CapsLock, NumLock and modifier usages in the slots type nothing.
    check(Layout::Us, &[(0, 0x39), (0, 0x53), (0, 0xe1), (0, 0x04)], "a");
}

#[test]
fn layout_facts() {
    let s = SHIFT;
    // US
    check(
        Layout::Us,
        &[(s, 0x22), (s, 0x23), (0, 0x2d), (s, 0x2d), (0, 0x2e), (s, 0x2e)],
        "%^-_=+",
    );
    check(Layout::Us, &[(0, 0x33), (s, 0x33), (0, 0x37), (0, 0x38), (s, 0x38)], ";:./?");
    // UK: " on Shift+2, £ on Shift+3, @ on Shift+', # and \ on the ISO keys.
    check(
        Layout::Uk,
        &[(s, 0x1f), (s, 0x20), (s, 0x34), (0, 0x32), (0, 0x31), (0, 0x64)],
        "\"£@##\\",
    );
    check(Layout::Uk, &[(s, 0x22), (s, 0x23), (0, 0x2d), (0, 0x38), (s, 0x33)], "%^-/:");
    // German: Y and Z swapped, / on Shift+7, = on Shift+0, - where US has /.
    check(Layout::De, &[(0, 0x1c), (0, 0x1d), (s, 0x1c), (s, 0x1d)], "zyZY");
    check(
        Layout::De,
        &[(s, 0x24), (s, 0x27), (0, 0x38), (s, 0x38), (s, 0x37), (s, 0x36)],
        "/=-_:;",
    );
    check(Layout::De, &[(0, 0x30), (s, 0x2d), (s, 0x22), (ALTGR, 0x14), (0, 0x32)], "+?%@#");
    // German ^ is a dead key: the scanner sends it with a Space to make it literal.
    check(Layout::De, &[(0, 0x35), (0, 0x2c), (0, 0x1e)], "^1");
    check(Layout::De, &[(0, 0x35), (0, 0x2c), (0, 0x2c)], "^ ");
    check(Layout::De, &[(0, 0x35), (0, 0x1e)], "^1");
    // French AZERTY: Shift for digits, A/Q and Z/W swapped, M beside L.
    check(Layout::Fr, &[(s, 0x1e), (s, 0x1f), (s, 0x27), (0, 0x1e), (0, 0x1f)], "120&é");
    check(Layout::Fr, &[(0, 0x14), (0, 0x04), (0, 0x1a), (0, 0x1d), (0, 0x33)], "aqzwm");
    check(
        Layout::Fr,
        &[(0, 0x10), (s, 0x10), (0, 0x36), (s, 0x36), (0, 0x37), (s, 0x37)],
        ",?;.:/",
    );
    check(Layout::Fr, &[(0, 0x23), (0, 0x25), (0, 0x2e), (s, 0x2e), (s, 0x34)], "-_=+%");
    check(Layout::Fr, &[(ALTGR, 0x26), (0, 0x2f), (0, 0x2c), (ALTGR, 0x27)], "^^@");
    // Spanish: / on Shift+7, ? on Shift+', ñ beside L, ^ dead on Shift.
    check(Layout::Es, &[(s, 0x24), (s, 0x27), (0, 0x38), (s, 0x38), (s, 0x2d)], "/=-_?");
    check(Layout::Es, &[(s, 0x37), (s, 0x36), (0, 0x30), (0, 0x33), (s, 0x2f), (0, 0x2c)], ":;+ñ^");
    check(Layout::Es, &[(ALTGR, 0x1f), (s, 0x22)], "@%");
}

/// Finds a (Linux key code, modifiers) that types `c` on `layout`, the way a scanner would.
fn stroke(layout: Layout, c: char) -> (u16, u8, bool) {
    for code in 1..=255 {
        if let Some(levels) = layout.levels(code) {
            for (level, mods) in [(0, 0), (1, SHIFT), (2, ALTGR)] {
                match levels[level] {
                    Sym::Char(x) if x == c => return (code, mods, false),
                    Sym::Dead(x) if x == c => return (code, mods, true),
                    _ => {}
                }
            }
        }
    }
    panic!("{c:?} cannot be typed on {layout}");
}

fn usage_of(code: u16) -> u8 {
    (0..=0xff_u8).find(|&u| usage_to_key(u) == code).expect("every typing key has a usage")
}

#[test]
fn card_data_round_trips_through_evdev_and_boot_reports_on_every_layout() {
    let text = "%B6011000990139424^DOE/JANE^2512?;6011000990139424=2512?+0123:4=5?_ABCxyz.-";
    for layout in Layout::ALL {
        let mut events = Vec::new();
        let mut reports = Vec::new();
        for c in text.chars() {
            let (code, mods, dead) = stroke(layout, c);
            for (i, &m) in MODIFIER_KEYS.iter().enumerate() {
                if mods & (1 << i) != 0 {
                    events.push((m, 1));
                }
            }
            events.extend([(code, 1), (code, 0)]);
            for (i, &m) in MODIFIER_KEYS.iter().enumerate() {
                if mods & (1 << i) != 0 {
                    events.push((m, 0));
                }
            }
            reports.extend(tap(mods, usage_of(code)));
            if dead {
                events.extend([(key::SPACE, 1), (key::SPACE, 0)]);
                reports.extend(tap(0, 0x2c));
            }
        }
        events.push((key::ENTER, 1));
        reports.extend(tap(0, 0x28));
        assert_eq!(evdev(layout, Framing::default(), &events), vec![p(text)], "{layout} evdev");
        assert_eq!(boot(layout, &reports), vec![p(text)], "{layout} boot");
    }
}

#[test]
fn overlong_payload_is_handed_over_once() {
    let framing = Framing { max_len: 100, ..Framing::default() };
    let mut dec = KeyboardDecoder::new(Layout::Us, framing);
    let mut out = Vec::new();
    for _ in 0..150 {
        out.extend(dec.push_evdev(key::N1, 1));
        out.extend(dec.push_evdev(key::N1, 0));
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].text.len(), 101);
    // The rest up to Enter is dropped; the next scan is clean.
    assert_eq!(dec.push_evdev(key::ENTER, 1), None);
    for code in [key::N4, key::N2, key::ENTER] {
        out.extend(dec.push_evdev(code, 1));
    }
    assert_eq!(out.last(), Some(&p("42")));
}

#[test]
fn reset_forgets_text_and_held_keys() {
    let mut dec = KeyboardDecoder::new(Layout::Us, Framing::default());
    dec.push_evdev(key::LEFTSHIFT, 1);
    dec.push_evdev(key::N1, 1);
    dec.push_boot_report(&[0, 0, 0x1e, 0, 0, 0, 0, 0]);
    dec.reset();
    // Shift no longer held, and usage 0x1e counts as a new press.
    dec.push_evdev(key::N2, 1);
    dec.push_boot_report(&[0, 0, 0x1e, 0, 0, 0, 0, 0]);
    assert_eq!(dec.push_evdev(key::ENTER, 1), Some(p("21")));
}

#[test]
fn layout_names() {
    #[derive(serde::Deserialize)]
    struct Profile {
        layout: Layout,
    }
    for layout in Layout::ALL {
        assert_eq!(layout.as_str().parse::<Layout>(), Ok(layout));
        assert_eq!(layout.to_string(), layout.as_str());
    }
    assert_eq!(" DE ".parse::<Layout>(), Ok(Layout::De));
    let err = "azerty".parse::<Layout>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown keyboard layout \"azerty\": expected one of us, uk, de, fr, es"
    );
    let profile: Profile = toml::from_str("layout = \"fr\"").unwrap();
    assert_eq!(profile.layout, Layout::Fr);
    assert!(toml::from_str::<Profile>("layout = \"FR\"").is_err());
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn garbage_never_panics() {
    let mut seed = 0xdead_beef_u64;
    for layout in Layout::ALL {
        let mut dec = KeyboardDecoder::new(layout, Framing { max_len: 70, ..Framing::default() });
        for _ in 0..5_000 {
            let r = xorshift(&mut seed);
            let len = (r % 12) as usize;
            let report: Vec<u8> = (0..len).map(|i| (r >> (i * 5)) as u8).collect();
            if let Some(p) = dec.push_boot_report(&report) {
                assert!(p.text.chars().count() <= 71);
            }
            let code = (xorshift(&mut seed) % 300) as u16;
            let value = (xorshift(&mut seed) % 4) as i32 - 1;
            if let Some(p) = dec.push_evdev(code, value) {
                assert!(p.text.chars().count() <= 71);
            }
        }
    }
}
