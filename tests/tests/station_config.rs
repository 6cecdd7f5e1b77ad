//! `scanline-station check-config` as an installer runs it: relative paths in the
//! configuration are taken from the configuration's folder whatever the working directory
//! (under systemd it is `/`), and the command prints them absolute.

use std::process::Command;

use scanline_tests::binary;

#[test]
fn relative_paths_are_taken_from_the_configuration_folder() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc").join("scanline");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("station.token"), "sls_example_token\n").unwrap();
    std::fs::write(etc.join("ca.pem"), "").unwrap();
    std::fs::write(
        etc.join("station.toml"),
        "[server]\nurl = \"https://scanline.example\"\ntoken_file = \"station.token\"\n\
         ca_file = \"ca.pem\"\n[station]\ndata_dir = \"data\"\n\
         [[batch_template]]\nname = \"Lunch\"\nprogram_id = 1\nservice_type_ids = [1]\n\
         [[scanner]]\nname = \"door\"\nkind = \"serial\"\npath = \"ttyScanner\"\n",
    )
    .unwrap();
    // Run from another folder, naming the configuration by a relative path.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = Command::new(binary("scanline-station"))
        .current_dir(&elsewhere)
        .args(["check-config", "--config", "../etc/scanline/station.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let folder = etc.canonicalize().unwrap();
    for (what, path) in [
        ("token", folder.join("station.token")),
        ("certificate", folder.join("ca.pem")),
        ("data", folder.join("data")),
        ("scanner", folder.join("ttyScanner")),
    ] {
        // The folder may be printed through the temporary directory's own path or its
        // canonical one; either way it is absolute and under the configuration's folder.
        let named = stdout.contains(&path.display().to_string())
            || stdout.contains(&etc.join(path.file_name().unwrap()).display().to_string());
        assert!(named, "the {what} path {} is not printed:\n{stdout}", path.display());
    }
    assert!(
        !stdout.contains("elsewhere"),
        "nothing is taken from the working directory:\n{stdout}"
    );
    assert!(!stdout.contains("sls_example_token"), "the token is never printed");
}
