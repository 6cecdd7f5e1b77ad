//! Applies a serial-configurable profile to a scanner (DESIGN §8.3): sends each `serial_command`
//! setup step as a Honeywell-style menu command and reads the scanner's answer, so that the
//! person setting up a station learns at once which step took and which did not.
//!
//! The protocol: the host sends `SYN M CR`, the command body (tag, subtag, data) and the
//! terminator `.` (store in the active table; `!` would only last until power-off). The scanner
//! echoes the body followed by one status byte and the terminator: ACK accepted, ENQ unknown tag
//! or subtag, NAK known command with data out of range. Sending `\x16M\r232BAD9.` gets
//! `232BAD9\x06.` back.
//!
//! This module does not choose which port a scanner is on, does not handle the other setup
//! methods (programming barcodes and vendor tools are for a person), and never sends anything
//! the profile does not list.

use std::io::{self, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use super::profile::{self, Profile, SetupMethod, SetupStep, Transport};

const SYN: u8 = 0x16;
const CR: u8 = 0x0D;
const ACK: u8 = 0x06;
const ENQ: u8 = 0x05;
const NAK: u8 = 0x15;
/// Stores the command in the scanner's active table, so it survives a power cycle.
const TERMINATOR: u8 = b'.';

/// The read timeout `open_port` gives the port: short, so that `apply` notices its own deadline
/// soon after it passes, whatever that deadline is.
const PORT_READ_TIMEOUT: Duration = Duration::from_millis(50);

/// How long to wait before reading again when a read returned no bytes at once. Some `Read`
/// implementations report "nothing yet" as `Ok(0)` without blocking; without a pause the loop
/// would spin on the CPU until the deadline.
const IDLE_PAUSE: Duration = Duration::from_millis(5);

/// How much unanswered input to keep while looking for the echo. A scan arriving mid-configure
/// is far shorter; the cap only stops a chattering device from growing the buffer forever.
const MAX_PENDING: usize = 4096;

/// What the scanner said to one menu command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accepted and stored.
    Ack,
    /// The tag or subtag is unknown to this scanner.
    Enq,
    /// The command is known but its data is out of range.
    Nak,
    /// Nothing that looked like an answer came before the timeout.
    NoAnswer,
    /// A complete answer came back, but not the echo of the command sent: the bytes received,
    /// escaped.
    Garbled(String),
}

/// The result of one `serial_command` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The command body sent, without framing.
    pub command: String,
    pub answer: Answer,
    /// What happened, in words for the person at the station.
    pub message: String,
}

/// Why a profile could not be applied at all. A step the scanner refuses is not an error: it is
/// the last `StepOutcome`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigureError {
    #[error(
        "profile {profile} has no serial transport, so the station cannot configure it: use its \
         programming barcodes or vendor tool"
    )]
    NoSerialTransport { profile: String },
    #[error(
        "profile {profile} has no serial_command steps, so there is nothing to send: use its \
         programming barcodes or vendor tool"
    )]
    NoSerialCommands { profile: String },
    #[error("profile {profile} is not valid: {}", problems.join("; "))]
    InvalidProfile { profile: String, problems: Vec<String> },
    #[error("cannot open serial port {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: serialport::Error,
    },
    #[error("serial port failed while {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
}

/// Sends every `serial_command` step of `profile` in order and checks each answer, waiting at
/// most `timeout` for each. Stops at the first step that is not acknowledged; that step is the
/// last outcome returned and later steps are not sent.
///
/// `port` should have a read timeout shorter than `timeout` (as `open_port` gives it): a read
/// that returns `Err(TimedOut)`, `Err(WouldBlock)` or `Ok(0)` is taken as "nothing yet", and
/// the deadline is checked between reads. Bytes that arrive before the echo, such as a label
/// scanned meanwhile, are skipped.
pub fn apply<P: Read + Write>(
    port: &mut P,
    profile: &Profile,
    timeout: Duration,
) -> Result<Vec<StepOutcome>, ConfigureError> {
    let steps = serial_steps(profile)?;
    let mut outcomes = Vec::with_capacity(steps.len());
    for (step, command) in steps {
        send(port, command)?;
        let answer = read_answer(port, command, timeout)?;
        let accepted = answer == Answer::Ack;
        let message = describe(step, command, &answer, timeout);
        if accepted {
            tracing::info!(profile = %profile.id, command, "scanner accepted menu command");
        } else {
            tracing::warn!(profile = %profile.id, command, ?answer, "scanner refused menu command");
        }
        outcomes.push(StepOutcome { command: command.to_owned(), answer, message });
        if !accepted {
            // Later steps may depend on this one (a suffix on a symbology not enabled, say), and
            // a scanner that answers wrongly once is not worth programming blind.
            break;
        }
    }
    Ok(outcomes)
}

/// Opens `path` with the line settings of the profile's serial transport and a short read
/// timeout suited to `apply`.
pub fn open_port(
    path: &str,
    profile: &Profile,
) -> Result<Box<dyn serialport::SerialPort>, ConfigureError> {
    let Some(Transport::Serial { baud, data_bits, parity, stop_bits, flow_control }) =
        profile.transports.iter().find(|t| matches!(t, Transport::Serial { .. }))
    else {
        return Err(ConfigureError::NoSerialTransport { profile: profile.id.clone() });
    };
    let invalid = |problem: String| ConfigureError::InvalidProfile {
        profile: profile.id.clone(),
        problems: vec![problem],
    };
    let data_bits = match data_bits {
        7 => serialport::DataBits::Seven,
        8 => serialport::DataBits::Eight,
        other => return Err(invalid(format!("serial data_bits {other} must be 7 or 8"))),
    };
    let parity = match parity.as_str() {
        "none" => serialport::Parity::None,
        "even" => serialport::Parity::Even,
        "odd" => serialport::Parity::Odd,
        other => return Err(invalid(format!("serial parity {other:?} is not none, even or odd"))),
    };
    let stop_bits = match stop_bits {
        1 => serialport::StopBits::One,
        2 => serialport::StopBits::Two,
        other => return Err(invalid(format!("serial stop_bits {other} must be 1 or 2"))),
    };
    let flow_control = match flow_control.as_str() {
        "none" => serialport::FlowControl::None,
        "hardware" => serialport::FlowControl::Hardware,
        "software" => serialport::FlowControl::Software,
        other => {
            return Err(invalid(format!(
                "serial flow_control {other:?} is not none, hardware or software"
            )));
        }
    };
    // Follow udev's /dev/serial/by-id links to the tty itself, as the device layer does: the
    // serial library looks the device up by its own name.
    let target =
        std::fs::canonicalize(path).map_or_else(|_| path.to_owned(), |p| p.display().to_string());
    serialport::new(&target, *baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(flow_control)
        .timeout(PORT_READ_TIMEOUT)
        .open()
        .map_err(|source| ConfigureError::Open { path: path.to_owned(), source })
}

/// The steps `apply` sends, after checking that the profile can be applied at all. The profile
/// is validated first so that nothing the wire protocol would misread (a stray `.` in a command,
/// say) is ever sent.
fn serial_steps(profile: &Profile) -> Result<Vec<(&SetupStep, &str)>, ConfigureError> {
    profile::validate(profile).map_err(|problems| ConfigureError::InvalidProfile {
        profile: profile.id.clone(),
        problems,
    })?;
    if !profile.transports.iter().any(|t| matches!(t, Transport::Serial { .. })) {
        return Err(ConfigureError::NoSerialTransport { profile: profile.id.clone() });
    }
    let steps: Vec<(&SetupStep, &str)> = profile
        .setup
        .iter()
        .filter(|s| s.method == SetupMethod::SerialCommand)
        .filter_map(|s| s.command.as_deref().map(|c| (s, c)))
        .collect();
    if steps.is_empty() {
        return Err(ConfigureError::NoSerialCommands { profile: profile.id.clone() });
    }
    Ok(steps)
}

fn send<P: Write>(port: &mut P, command: &str) -> Result<(), ConfigureError> {
    let mut frame = Vec::with_capacity(command.len() + 4);
    frame.extend_from_slice(&[SYN, b'M', CR]);
    frame.extend_from_slice(command.as_bytes());
    frame.push(TERMINATOR);
    let io_error = |source| ConfigureError::Io { action: format!("sending {command}"), source };
    port.write_all(&frame).map_err(io_error)?;
    port.flush().map_err(io_error)
}

fn read_answer<P: Read>(
    port: &mut P,
    command: &str,
    timeout: Duration,
) -> Result<Answer, ConfigureError> {
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        if let Some(answer) = parse_answer(&pending, command.as_bytes()) {
            return Ok(answer);
        }
        if Instant::now() >= deadline {
            return Ok(Answer::NoAnswer);
        }
        match port.read(&mut chunk) {
            Ok(0) => thread::sleep(IDLE_PAUSE),
            Ok(n) => {
                pending.extend_from_slice(&chunk[..n]);
                if pending.len() > MAX_PENDING {
                    pending.drain(..pending.len() - MAX_PENDING);
                }
            }
            // How serial ports say "nothing within the read timeout"; the deadline decides.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(source) => {
                return Err(ConfigureError::Io {
                    action: format!("waiting for the answer to {command}"),
                    source,
                });
            }
        }
    }
}

/// Finds the scanner's answer to `command` in what has arrived so far: the echoed command, one
/// status byte, the terminator. Anything before the echo is skipped. `None` means "keep
/// reading".
fn parse_answer(received: &[u8], command: &[u8]) -> Option<Answer> {
    let frame_len = command.len() + 2;
    for start in 0..received.len() {
        let Some(frame) = received.get(start..start + frame_len) else { break };
        if frame.starts_with(command) && frame[frame_len - 1] == TERMINATOR {
            match frame[command.len()] {
                ACK => return Some(Answer::Ack),
                ENQ => return Some(Answer::Enq),
                NAK => return Some(Answer::Nak),
                _ => {}
            }
        }
    }
    // A status byte followed by the terminator is a whole answer frame. If it was not the echo
    // of this command, waiting longer will not make it one: the line is garbling bytes (wrong
    // baud or parity) or the scanner answered something else.
    let end =
        received.windows(2).position(|w| matches!(w[0], ACK | ENQ | NAK) && w[1] == TERMINATOR)?
            + 2;
    // A scan that arrived first ends with CR or LF; show only what follows it.
    let start =
        received[..end].iter().rposition(|&b| b == b'\r' || b == b'\n').map_or(0, |i| i + 1);
    Some(Answer::Garbled(received[start..end].escape_ascii().to_string()))
}

fn describe(step: &SetupStep, command: &str, answer: &Answer, timeout: Duration) -> String {
    const STOPPED: &str = "Nothing after this step was sent.";
    let what = &step.description;
    match answer {
        Answer::Ack => format!("The scanner accepted {command} ({what})."),
        Answer::Enq => format!(
            "The scanner does not know {command} ({what}): its tag or subtag is not valid for \
             this model or firmware, so this profile does not fit the scanner. {STOPPED}"
        ),
        Answer::Nak => format!(
            "The scanner knows {command} ({what}) but its value is out of range for this model. \
             {STOPPED}"
        ),
        Answer::NoAnswer => format!(
            "No answer to {command} ({what}) within {} ms. Check that the scanner is in USB \
             serial mode (scan the profile's programming barcodes first), that this is its port, \
             and that the cable is in. {STOPPED}",
            timeout.as_millis()
        ),
        Answer::Garbled(text) => format!(
            "The scanner answered {command} ({what}) with \"{text}\", which is not the echo the \
             protocol promises: check the serial settings (baud, parity) and the cable. {STOPPED}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use nix::pty::openpty;
    use nix::sys::termios::{self, SetArg};

    use super::*;
    use crate::scanner::profile::load_file;

    const TIMEOUT: Duration = Duration::from_millis(1500);

    fn voyager() -> Profile {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../firmware-configs/honeywell-voyager-1250g.toml");
        load_file(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A copy of the Voyager profile whose serial steps are exactly `commands`.
    fn with_commands(commands: &[&str]) -> Profile {
        let mut p = voyager();
        p.setup.retain(|s| s.method != SetupMethod::SerialCommand);
        for c in commands {
            p.setup.push(SetupStep {
                description: format!("test step {c}"),
                method: SetupMethod::SerialCommand,
                command: Some((*c).to_owned()),
                barcode: None,
                verify: "The scanner answers ACK".to_owned(),
            });
        }
        p
    }

    /// How the fake scanner behaves.
    #[derive(Clone, Copy)]
    enum Behaviour {
        /// Answers like a Honeywell: ACK for known commands, ENQ for unknown tags, NAK for a
        /// known tag with a value out of range. Sends a stray scan before its first answer.
        Honeywell,
        /// Reads everything and never answers.
        Silent,
    }

    /// The commands a Honeywell Voyager knows, with the data values it accepts. Only the tag and
    /// subtag decide ENQ, as on the real scanner.
    const KNOWN: [(&str, &[&str]); 9] = [
        ("232BAD", &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        ("PRECA2", &[""]),
        ("SUFCA2", &[""]),
        ("SUFBK2", &["990D"]),
        ("128ENA", &["0", "1"]),
        ("QRCENA", &["0", "1"]),
        ("BEPBEP", &["0", "1"]),
        ("BEPLVL", &["0", "1", "2", "3"]),
        ("C39ENA", &["0", "1"]),
    ];

    fn status_for(body: &str) -> u8 {
        let Some(tag_subtag) = body.get(..6) else { return ENQ };
        match KNOWN.iter().find(|(t, _)| *t == tag_subtag) {
            None => ENQ,
            Some((_, values)) if values.contains(&&body[6..]) => ACK,
            Some(_) => NAK,
        }
    }

    /// A pseudo-terminal pair with a thread playing the scanner on the master side. Dropping
    /// every handle on the slave makes the master's reads fail, which ends the thread.
    struct FakeScanner {
        slave_path: PathBuf,
        slave: Option<std::os::fd::OwnedFd>,
        received: Arc<Mutex<Vec<String>>>,
        thread: Option<thread::JoinHandle<()>>,
    }

    impl FakeScanner {
        fn start(behaviour: Behaviour) -> Self {
            let pty = openpty(None, None).expect("openpty");
            // A fresh pty translates CR to LF and echoes input; a serial line does neither.
            let mut attrs = termios::tcgetattr(&pty.slave).expect("tcgetattr");
            termios::cfmakeraw(&mut attrs);
            termios::tcsetattr(&pty.slave, SetArg::TCSANOW, &attrs).expect("tcsetattr slave");
            termios::tcsetattr(&pty.master, SetArg::TCSANOW, &attrs).expect("tcsetattr master");
            let slave_path = nix::unistd::ttyname(&pty.slave).expect("ttyname");
            let received = Arc::new(Mutex::new(Vec::new()));
            let log = Arc::clone(&received);
            let master = File::from(pty.master);
            let thread = thread::spawn(move || play(master, behaviour, &log));
            FakeScanner { slave_path, slave: Some(pty.slave), received, thread: Some(thread) }
        }

        fn path(&self) -> &str {
            self.slave_path.to_str().expect("pty paths are UTF-8")
        }

        fn received(&self) -> Vec<String> {
            self.received.lock().unwrap().clone()
        }

        /// Waits for the scanner thread after the port under test has been dropped.
        fn finish(mut self) -> Vec<String> {
            self.slave.take();
            if let Some(thread) = self.thread.take() {
                thread.join().expect("fake scanner thread panicked");
            }
            self.received()
        }
    }

    /// The fake scanner: parses `SYN M CR body .` frames from the host and answers them.
    fn play(mut master: File, behaviour: Behaviour, log: &Mutex<Vec<String>>) {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 256];
        let mut first = true;
        // Ends with an error (EIO) once no one has the slave open any more.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                return;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|&b| b == TERMINATOR) {
                let frame: Vec<u8> = pending.drain(..=end).collect();
                let Some(body) = frame.strip_prefix(&[SYN, b'M', CR]) else {
                    panic!("host sent a frame without SYN M CR: {:?}", frame.escape_ascii());
                };
                let body = String::from_utf8(body[..body.len() - 1].to_vec()).unwrap();
                log.lock().unwrap().push(body.clone());
                if let Behaviour::Honeywell = behaviour {
                    let mut answer = Vec::new();
                    if first {
                        // Someone scanned a label while the host was configuring.
                        answer.extend_from_slice(b"88000000077010\r");
                        first = false;
                    }
                    answer.extend_from_slice(body.as_bytes());
                    answer.push(status_for(&body));
                    answer.push(TERMINATOR);
                    // Byte by byte, as a scanner at serial speed delivers it.
                    for b in answer {
                        if master.write_all(&[b]).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_voyager_profile_is_accepted_step_by_step_over_a_real_pty() {
        let scanner = FakeScanner::start(Behaviour::Honeywell);
        let profile = voyager();
        let mut port = open_port(scanner.path(), &profile).unwrap_or_else(|e| panic!("{e}"));
        let outcomes = apply(&mut port, &profile, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        drop(port);
        let received = scanner.finish();

        let sent: Vec<&str> = profile
            .setup
            .iter()
            .filter(|s| s.method == SetupMethod::SerialCommand)
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert!(sent.contains(&"SUFBK2990D"), "{sent:?}");
        assert_eq!(received, sent);
        let answers: Vec<&Answer> = outcomes.iter().map(|o| &o.answer).collect();
        assert_eq!(answers, vec![&Answer::Ack; sent.len()], "{outcomes:#?}");
        assert!(outcomes.iter().all(|o| o.message.starts_with("The scanner accepted")));
    }

    #[test]
    fn an_unknown_command_stops_with_enq_and_later_steps_are_not_sent() {
        let scanner = FakeScanner::start(Behaviour::Honeywell);
        let profile = with_commands(&["128ENA1", "XYZABC1", "SUFBK2990D"]);
        let mut port = open_port(scanner.path(), &profile).unwrap_or_else(|e| panic!("{e}"));
        let outcomes = apply(&mut port, &profile, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        drop(port);
        let received = scanner.finish();

        assert_eq!(received, ["128ENA1", "XYZABC1"]);
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].answer, Answer::Ack);
        assert_eq!(outcomes[1].command, "XYZABC1");
        assert_eq!(outcomes[1].answer, Answer::Enq);
        assert!(outcomes[1].message.contains("does not know XYZABC1"), "{}", outcomes[1].message);
    }

    #[test]
    fn a_value_out_of_range_stops_with_nak() {
        let scanner = FakeScanner::start(Behaviour::Honeywell);
        let profile = with_commands(&["BEPLVL7", "128ENA1"]);
        let mut port = open_port(scanner.path(), &profile).unwrap_or_else(|e| panic!("{e}"));
        let outcomes = apply(&mut port, &profile, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        drop(port);
        assert_eq!(scanner.finish(), ["BEPLVL7"]);
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].answer, Answer::Nak);
        assert!(outcomes[0].message.contains("out of range"), "{}", outcomes[0].message);
    }

    #[test]
    fn a_silent_scanner_gives_no_answer_within_the_timeout() {
        let scanner = FakeScanner::start(Behaviour::Silent);
        let profile = voyager();
        let mut port = open_port(scanner.path(), &profile).unwrap_or_else(|e| panic!("{e}"));
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        let outcomes = apply(&mut port, &profile, timeout).unwrap_or_else(|e| panic!("{e}"));
        let took = started.elapsed();
        drop(port);
        let received = scanner.finish();

        assert_eq!(outcomes.len(), 1, "{outcomes:#?}");
        assert_eq!(outcomes[0].answer, Answer::NoAnswer);
        assert!(outcomes[0].message.contains("within 300 ms"), "{}", outcomes[0].message);
        assert!(took >= timeout, "gave up after {took:?}");
        assert!(took < timeout * 4, "took {took:?} for a {timeout:?} timeout");
        assert_eq!(received.len(), 1, "later steps were sent: {received:?}");
    }

    /// An in-memory port for the parsing cases a real scanner rarely produces on demand.
    struct ScriptedPort {
        replies: Vec<io::Result<Vec<u8>>>,
        written: Vec<u8>,
    }

    impl Read for ScriptedPort {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.replies.is_empty() {
                thread::sleep(Duration::from_millis(1));
                return Err(io::ErrorKind::TimedOut.into());
            }
            let bytes = self.replies.remove(0)?;
            buf[..bytes.len()].copy_from_slice(&bytes);
            Ok(bytes.len())
        }
    }

    impl Write for ScriptedPort {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run_scripted(
        replies: Vec<io::Result<Vec<u8>>>,
    ) -> (Result<Vec<StepOutcome>, ConfigureError>, Vec<u8>) {
        let mut port = ScriptedPort { replies, written: Vec::new() };
        let result = apply(&mut port, &with_commands(&["232BAD9"]), Duration::from_millis(100));
        (result, port.written)
    }

    #[test]
    fn the_frame_on_the_wire_is_syn_m_cr_body_and_terminator() {
        let (result, written) = run_scripted(vec![Ok(b"232BAD9\x06.".to_vec())]);
        assert_eq!(written, b"\x16M\r232BAD9.");
        assert_eq!(result.unwrap()[0].answer, Answer::Ack);
    }

    #[test]
    fn an_answer_split_over_reads_with_empty_reads_between_is_found() {
        let (result, _) = run_scripted(vec![
            Ok(b"stray\r23".to_vec()),
            Ok(Vec::new()),
            Err(io::ErrorKind::TimedOut.into()),
            Ok(b"2BAD9".to_vec()),
            Ok(b"\x06".to_vec()),
            Ok(b".".to_vec()),
        ]);
        assert_eq!(result.unwrap()[0].answer, Answer::Ack);
    }

    #[test]
    fn an_answer_that_is_not_the_echo_is_garbled() {
        let (result, _) = run_scripted(vec![Ok(b"scan\r2\xb2BAD9\x06.".to_vec())]);
        let outcome = &result.unwrap()[0];
        assert_eq!(outcome.answer, Answer::Garbled("2\\xb2BAD9\\x06.".to_owned()));
        assert!(outcome.message.contains("serial settings"), "{}", outcome.message);
    }

    #[test]
    fn a_failing_port_is_an_io_error() {
        let (result, _) = run_scripted(vec![Err(io::ErrorKind::BrokenPipe.into())]);
        assert!(matches!(result, Err(ConfigureError::Io { .. })), "{result:?}");
    }

    #[test]
    fn profiles_without_serial_commands_or_transport_are_refused() {
        let mut no_commands = with_commands(&[]);
        no_commands.id = "no-commands".to_owned();
        let mut port = ScriptedPort { replies: Vec::new(), written: Vec::new() };
        let err = apply(&mut port, &no_commands, TIMEOUT).unwrap_err();
        assert!(matches!(err, ConfigureError::NoSerialCommands { .. }), "{err}");

        let mut no_serial = with_commands(&[]);
        no_serial.transports.retain(|t| !matches!(t, Transport::Serial { .. }));
        let err = apply(&mut port, &no_serial, TIMEOUT).unwrap_err();
        assert!(matches!(err, ConfigureError::NoSerialTransport { .. }), "{err}");
        let err = open_port("/dev/null", &no_serial).err().unwrap();
        assert!(matches!(err, ConfigureError::NoSerialTransport { .. }), "{err}");

        // A command the wire protocol would misread is never sent.
        let bad = with_commands(&["232BAD9.SUFCA2"]);
        let err = apply(&mut port, &bad, TIMEOUT).unwrap_err();
        assert!(matches!(err, ConfigureError::InvalidProfile { .. }), "{err}");
        assert!(port.written.is_empty());
    }
}
