//! End-to-end tests of `.xlsx` tables and `pcs import partner-center`,
//! through the binary.
//!
//! The fixtures are written by real tools (`tests/fixtures/gen_xlsx.py`:
//! openpyxl and LibreOffice Calc; `tests/fixtures/gen_partner_center.py`:
//! Partner Center's documented report columns) and committed; these tests
//! need no Python.

use std::path::{Path, PathBuf};
use std::process::Command;

const PCS: &str = env!("CARGO_BIN_EXE_pcs");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    workspace().join("tests/fixtures")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pcs<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(PCS).args(args).output().expect("pcs runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// `pcs score DIR --month 2023-11 --format jsonl`, which must succeed.
fn score(dir: &Path) -> String {
    use std::ffi::OsStr;
    let run = pcs(&[
        OsStr::new("score"),
        dir.as_os_str(),
        OsStr::new("--month"),
        OsStr::new("2023-11"),
        OsStr::new("--format"),
        OsStr::new("jsonl"),
    ]);
    assert_eq!(
        run.code,
        0,
        "pcs score {} failed:\n{}",
        dir.display(),
        run.stderr
    );
    assert!(!run.stdout.is_empty());
    run.stdout
}

mod xlsx {
    use super::*;

    #[test]
    fn the_example_as_en_us_workbooks_scores_as_the_csv() {
        // The workbooks hold the example's first four tables (before it had
        // acr and licenses): the same records as tests/fixtures/parquet/source-csv.
        let csv = score(&fixtures().join("parquet/source-csv"));
        let xlsx = score(&fixtures().join("xlsx/en-US"));
        assert_eq!(xlsx, csv);
        assert_eq!(csv.lines().count(), 4 * 6, "4 partners, 6 areas");
    }

    #[test]
    fn the_example_saved_by_libreoffice_in_german_scores_as_the_csv() {
        let csv = score(&fixtures().join("parquet/source-csv"));
        let xlsx = score(&fixtures().join("xlsx/de-DE"));
        assert_eq!(xlsx, csv);
    }

    #[test]
    fn warnings_name_the_same_rows_as_in_csv() {
        // The example has unknown workload names on purpose; the warnings
        // count them whatever the format.
        let args = |dir: PathBuf| {
            pcs(&[
                "score".into(),
                dir.into_os_string(),
                "--month".into(),
                "2023-11".into(),
                "--format".into(),
                "jsonl".into(),
            ])
        };
        let csv = args(workspace().join("examples/contoso"));
        let xlsx = args(fixtures().join("xlsx/de-DE"));
        let strip = |s: &str| {
            s.replace(".xlsx", ".csv")
                .replace("tests/fixtures/xlsx/de-DE", "")
        };
        let csv_warnings: Vec<String> = csv
            .stderr
            .lines()
            .map(|l| strip(l).replace("examples/contoso", ""))
            .collect();
        let xlsx_warnings: Vec<String> = xlsx.stderr.lines().map(strip).collect();
        assert!(!csv_warnings.is_empty());
        assert_eq!(xlsx_warnings, csv_warnings);
    }

    fn fails_with(case: &str, parts: &[&str]) {
        let dir = fixtures().join("xlsx/errors").join(case);
        let run = pcs(&[
            "score".into(),
            dir.into_os_string(),
            "--month".into(),
            std::ffi::OsString::from("2023-11"),
        ]);
        assert_eq!(run.code, 2, "{case}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{case}: {}", run.stdout);
        for p in parts {
            assert!(
                run.stderr.contains(p),
                "{case}: expected {p:?} in:\n{}",
                run.stderr
            );
        }
    }

    #[test]
    fn an_error_cell_is_named_with_its_cell_and_value() {
        fails_with(
            "na-cell",
            &["revenue.xlsx!E3 (revenue_usd), value '#N/A': an error cell"],
        );
    }

    #[test]
    fn a_true_cell_is_an_error() {
        fails_with("bool-cell", &["revenue.xlsx!C3 (workload), value 'TRUE'"]);
    }

    #[test]
    fn an_id_with_a_fraction_is_an_error() {
        fails_with(
            "fraction-id",
            &[
                "revenue.xlsx!A3 (partner_id), value '1000001.5': a number with a fraction in an id column",
            ],
        );
    }

    #[test]
    fn a_date_with_a_time_names_the_sheet() {
        fails_with(
            "date-with-time",
            &["certifications.xlsx!Certifications!D3 (earned_on), value '2023-05-10 14:30:00'"],
        );
    }

    #[test]
    fn a_bad_month_shows_the_text_as_written() {
        fails_with(
            "bad-month",
            &["revenue.xlsx!D3 (month), value 'Okt 2023': not a month"],
        );
    }

    #[test]
    fn a_missing_column_names_the_header_row() {
        fails_with(
            "missing-column",
            &["revenue.xlsx!1:1", "missing required column 'association'"],
        );
    }
}

mod partner_center {
    use super::*;

    fn reports() -> PathBuf {
        fixtures().join("partner-center/reports")
    }

    fn import(dst: &Path, extra: &[&str]) -> Run {
        let mut args: Vec<std::ffi::OsString> = vec![
            "import".into(),
            "partner-center".into(),
            reports().into_os_string(),
            dst.as_os_str().to_os_string(),
        ];
        args.extend(extra.iter().map(|s| s.into()));
        pcs(&args)
    }

    fn sorted_lines(path: &Path) -> Vec<String> {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[1..].sort();
        lines
    }

    #[test]
    fn the_imported_reports_score_as_the_hand_built_dataset() {
        let tmp = tempfile::tempdir().unwrap();
        let dst = tmp.path().join("dataset");
        let run = import(&dst, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.is_empty());
        let expected = fixtures().join("partner-center/expected");
        assert_eq!(score(&dst), score(&expected));
        // The tables the scorer of this version does not read yet are
        // compared row by row.
        for table in [
            "acr.csv",
            "licenses.csv",
            "partners.csv",
            "certifications.csv",
        ] {
            assert_eq!(
                sorted_lines(&dst.join(table)),
                sorted_lines(&expected.join(table)),
                "{table}"
            );
        }
    }

    #[test]
    fn the_summary_says_what_was_kept_dropped_rolled_up_and_not_mapped() {
        let tmp = tempfile::tempdir().unwrap();
        let dst = tmp.path().join("dataset");
        let run = import(&dst, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        for part in [
            "Profile.csv: Profile → partners: 6 rows, 4 global accounts, 2 location ids rolled up to their global account",
            "AzureUsage.csv: AzureUsage → acr: 6 rows, 5 kept, 1 dropped as duplicates of the global account, 2 rolled up to the global account",
            "EMSUsage.csv: EMSUsage → licenses: 2 rows, 2 kept, 1 rolled up to the global account",
            "OfficeUsage.csv: OfficeUsage → licenses: 5 rows, 4 kept, 1 dropped as duplicates of the global account, 1 rolled up",
            "dropped: workload 'Microsoft Azure' (1 row)",
            "not in the mapping, kept as written: workload 'Azure'",
            "not in the mapping, kept as written: workload 'Power App' (1 row)",
            "columns not read: PGAMpnId, SubscriptionStartDate",
            "no column DateAssociated in the file: associated_on left empty",
            "TeamsUsage3PApps.csv: not a known report, not read",
            "PowerBIUsage.xlsx: PowerBIUsage → usage: 7 rows, 7 kept",
            "acr.csv (5 rows)",
            "licenses.csv (10 rows)",
        ] {
            assert!(
                run.stderr.contains(part),
                "expected {part:?} in:\n{}",
                run.stderr
            );
        }
    }

    #[test]
    fn importing_twice_writes_the_same_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dst = tmp.path().join("dataset");
        assert_eq!(import(&dst, &[]).code, 0);
        let first: Vec<(String, Vec<u8>)> = read_dir(&dst);
        // Without --force an existing dataset is left alone.
        let run = import(&dst, &[]);
        assert_ne!(run.code, 0);
        assert!(run.stderr.contains("already exists"), "{}", run.stderr);
        assert_eq!(read_dir(&dst), first);
        let run = import(&dst, &["--force"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(read_dir(&dst), first);
        let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "acr.csv",
                "certifications.csv",
                "licenses.csv",
                "partners.csv",
                "revenue.csv",
                "usage.csv"
            ]
        );
    }

    fn read_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    /// A copy of the reports with one file replaced.
    fn reports_with(name: &str, text: &str) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(reports()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
        }
        std::fs::write(tmp.path().join(name), text).unwrap();
        tmp
    }

    fn import_from(src: &Path, dst: &Path, extra: &[&str]) -> Run {
        let mut args: Vec<std::ffi::OsString> = vec![
            "import".into(),
            "partner-center".into(),
            src.as_os_str().to_os_string(),
            dst.as_os_str().to_os_string(),
        ];
        args.extend(extra.iter().map(|s| s.into()));
        pcs(&args)
    }

    #[test]
    fn a_bad_value_names_file_line_column_and_value_and_writes_nothing() {
        let original = std::fs::read_to_string(reports().join("AzureUsage.csv")).unwrap();
        let bad = original.replacen(",2023-10,", ",2023-1O,", 1);
        assert_ne!(bad, original);
        let src = reports_with("AzureUsage.csv", &bad);
        let out = tempfile::tempdir().unwrap();
        let dst = out.path().join("dataset");
        let run = import_from(src.path(), &dst, &[]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("AzureUsage.csv, line 2, column 7 (Month), value '2023-1O': not a month"),
            "{}",
            run.stderr
        );
        assert!(!dst.exists());
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            0,
            "no staging left behind"
        );
    }

    #[test]
    fn a_bad_cell_of_an_xlsx_report_is_named_by_its_cell() {
        let src = reports_with("unused.txt", "");
        std::fs::copy(
            fixtures().join("partner-center/bad/PowerBIUsage.xlsx"),
            src.path().join("PowerBIUsage.xlsx"),
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let run = import_from(src.path(), &out.path().join("d"), &[]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("PowerBIUsage.xlsx!W3 (ActiveSeats), value '#N/A': an error cell"),
            "{}",
            run.stderr
        );
        assert!(!out.path().join("d").exists());
    }

    #[test]
    fn a_bad_duplicate_flag_and_a_missing_column_are_errors() {
        let original = std::fs::read_to_string(reports().join("OfficeUsage.csv")).unwrap();
        let lines: Vec<&str> = original.lines().collect();
        let bad_flag = format!(
            "{}\n{}\n",
            lines[0],
            lines[1].rsplit_once(',').unwrap().0.to_string() + ",maybe"
        );
        let src = reports_with("OfficeUsage.csv", &bad_flag);
        let out = tempfile::tempdir().unwrap();
        let run = import_from(src.path(), &out.path().join("d"), &[]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains(
                "OfficeUsage.csv, line 2, column 14 (IsDuplicateRowForPGA), value 'maybe'"
            ),
            "{}",
            run.stderr
        );
        let no_month = original.replacen("Month", "Monat", 1);
        let src = reports_with("OfficeUsage.csv", &no_month);
        let run = import_from(src.path(), &out.path().join("d"), &[]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("OfficeUsage.csv, line 1: the OfficeUsage report: no column Month (for the licenses table's month)"),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn a_changed_export_needs_a_new_mapping_not_new_code() {
        // An export whose month column is called "Billing Month".
        let original = std::fs::read_to_string(reports().join("AzureUsage.csv")).unwrap();
        let renamed = original.replacen(",Month,", ",Billing Month,", 1);
        let src = reports_with("AzureUsage.csv", &renamed);
        let out = tempfile::tempdir().unwrap();
        let run = import_from(src.path(), &out.path().join("a"), &[]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        let shown = pcs(&["import", "partner-center", "--show-mapping"]);
        assert_eq!(shown.code, 0);
        let mapping = shown.stdout.replacen(
            "service = [\"ServiceLevel2\", \"ServiceName\"]\nmonth = \"Month\"",
            "service = [\"ServiceLevel2\", \"ServiceName\"]\nmonth = \"Billing Month\"",
            1,
        );
        assert_ne!(mapping, shown.stdout);
        let file = out.path().join("mapping.toml");
        std::fs::write(&file, mapping).unwrap();
        let run = import_from(
            src.path(),
            &out.path().join("b"),
            &["--mapping", file.to_str().unwrap()],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            sorted_lines(&out.path().join("b/acr.csv")),
            sorted_lines(&fixtures().join("partner-center/expected/acr.csv"))
        );
    }

    #[test]
    fn a_broken_mapping_is_bad_input() {
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("mapping.toml");
        std::fs::write(&file, "format = 1\nname = \"x\"\n").unwrap();
        let run = import_from(
            &reports(),
            &out.path().join("d"),
            &["--mapping", file.to_str().unwrap()],
        );
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("mapping.toml"), "{}", run.stderr);
    }
}
