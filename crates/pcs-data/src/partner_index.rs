//! Where each partner's records lie in a dataset's CSV tables, so that one
//! partner's rows can be read again without parsing anyone else's.
//!
//! [`PartnerIndex::build`] reads each CSV table once with the reader of a
//! full read ([`Records`]: the same record boundaries and line numbers),
//! looking at the partner column only, and keeps per partner a few byte
//! ranges of the file, each with the line feeds before it and the number of
//! that partner's records in it. [`PartnerIndex::read`] then parses those
//! ranges only, through the same checks as a full read ([`each_record`],
//! [`feed`]): a re-read gives the lines, sums and errors a full read gives.
//!
//! The index holds each table file open: a re-read reads the file that was
//! indexed even when an upload has renamed a new one into its place.
//!
//! Size: files usually hold a partner's rows together (`pcs generate` and
//! Partner Center exports do), so a partner has one range per table. Ranges
//! of a partner less than a gap apart are merged (the rows of others in the
//! gap are parsed and skipped on a re-read), and when a table's ranges
//! outnumber four per partner (plus 65,536) the gap grows fourfold and the
//! ranges are merged again: the index stays at about 40 bytes per range
//! whatever the order of the rows; rows in no order at all make one range
//! per partner, the whole file (a re-read is then a full read of that table).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use pcs_core::facts::{FactsBuilder, Table};
use rayon::prelude::*;

use crate::csv_table::{Header, Records, each_record, read_header};
use crate::error::{DataError, ErrorKind};
use crate::record::feed;
use crate::schema::columns;
use crate::{Dataset, Format};

/// The column of the partner id, in every table.
const PARTNER: usize = 0;

/// Ranges of one partner closer than this are merged from the start.
const FIRST_GAP: u64 = 64 << 10;

/// Ranges a table may hold beyond four per partner before they are merged
/// with a larger gap.
const SPARE_RANGES: usize = 65_536;

/// The largest block a re-read reads at once.
const READ_BLOCK: u64 = 1 << 20;

/// Per partner, where its records lie in the dataset's CSV tables.
pub struct PartnerIndex {
    /// Partner ids (trimmed, as a full read keys them) → their number.
    partners: HashMap<Box<str>, u32>,
    tables: Vec<Indexed>,
}

/// One indexed table file.
struct Indexed {
    table: Table,
    path: PathBuf,
    /// The file indexed, held open.
    file: File,
    header: Header,
    /// (partner, range), sorted by partner then start.
    ranges: Vec<(u32, Range)>,
}

/// Bytes `start..end` of a file: whole records, `lines_before` line feeds
/// before them, `own` of them the partner's.
#[derive(Clone, Copy, Debug)]
struct Range {
    start: u64,
    end: u64,
    lines_before: u64,
    own: u64,
}

/// One table's index as built, with partner numbers of its own.
struct Local {
    table: Table,
    path: PathBuf,
    file: File,
    header: Header,
    ids: HashMap<Box<str>, u32>,
    ranges: Vec<(u32, Range)>,
}

impl PartnerIndex {
    /// Indexes the CSV tables of `dataset` (one pass over each, tables in
    /// parallel). Other formats are not indexed: [`PartnerIndex::read`]
    /// says so and the caller reads them whole.
    pub fn build(dataset: &Dataset) -> Result<PartnerIndex, DataError> {
        Self::build_with(dataset, FIRST_GAP, SPARE_RANGES)
    }

    /// [`PartnerIndex::build`] with the merge gap and the range budget
    /// given (tests and fuzz targets make both small, so that ranges split
    /// inside tiny files).
    pub(crate) fn build_with(
        dataset: &Dataset,
        gap: u64,
        spare: usize,
    ) -> Result<PartnerIndex, DataError> {
        let csv: Vec<_> = dataset
            .tables()
            .iter()
            .filter(|t| t.format == Format::Csv)
            .collect();
        let locals = csv
            .par_iter()
            .map(|t| index_csv(t.table, &t.path, t.dialect, gap, spare))
            .collect::<Result<Vec<Local>, DataError>>()?;
        let mut partners: HashMap<Box<str>, u32> = HashMap::new();
        let mut tables = Vec::with_capacity(locals.len());
        for local in locals {
            let mut global = vec![0u32; local.ids.len()];
            for (id, n) in local.ids {
                let next = partners.len() as u32;
                global[n as usize] = *partners.entry(id).or_insert(next);
            }
            let mut ranges = local.ranges;
            for (p, _) in &mut ranges {
                *p = global[*p as usize];
            }
            ranges.sort_unstable_by_key(|(p, r)| (*p, r.start));
            ranges.shrink_to_fit();
            tables.push(Indexed {
                table: local.table,
                path: local.path,
                file: local.file,
                header: local.header,
                ranges,
            });
        }
        partners.shrink_to_fit();
        Ok(PartnerIndex { partners, tables })
    }

    /// Whether `table` is indexed (it is a CSV table of the dataset).
    pub fn covers(&self, table: Table) -> bool {
        self.tables.iter().any(|t| t.table == table)
    }

    /// The files indexed, as held open (to check they are still the files
    /// a full read read).
    pub fn files(&self) -> impl Iterator<Item = (Table, &Path, &File)> {
        self.tables
            .iter()
            .map(|t| (t.table, t.path.as_path(), &t.file))
    }

    /// Reads the records of `partner` in `table` into `builder`, parsing
    /// the ranges where they lie only (every record of those ranges is
    /// checked as a full read checks it; the builder should keep `partner`'s
    /// rows only: [`FactsBuilder::only_partner`]). Returns the partner's
    /// records read, or `None` when `table` is not indexed. A file that
    /// no longer holds what was indexed (changed in place) is an error.
    pub fn read(
        &self,
        table: Table,
        partner: &str,
        builder: &mut FactsBuilder<'_>,
    ) -> Option<Result<u64, DataError>> {
        let t = self.tables.iter().find(|t| t.table == table)?;
        let Some(&p) = self.partners.get(partner) else {
            return Some(Ok(0));
        };
        let lo = t.ranges.partition_point(|(q, _)| *q < p);
        let hi = t.ranges.partition_point(|(q, _)| *q <= p);
        Some(read_ranges(t, partner, &t.ranges[lo..hi], builder))
    }

    /// Partners indexed (in any table).
    pub fn partners(&self) -> usize {
        self.partners.len()
    }

    /// Ranges kept, over every table.
    pub fn ranges(&self) -> usize {
        self.tables.iter().map(|t| t.ranges.len()).sum()
    }

    /// About how many bytes of memory the index holds (its maps and
    /// ranges, not the open files).
    pub fn heap_bytes(&self) -> usize {
        let ids: usize = self.partners.keys().map(|k| k.len()).sum();
        // A hash map entry: the key's pointer and length, the number, and
        // a control byte.
        let map = self.partners.capacity() * (16 + 4 + 1) + ids;
        let ranges: usize = self
            .tables
            .iter()
            .map(|t| t.ranges.capacity() * std::mem::size_of::<(u32, Range)>())
            .sum();
        map + ranges
    }
}

/// Parses `ranges` of `t` into `builder`; checks that they hold as many of
/// `partner`'s records as when indexed.
fn read_ranges(
    t: &Indexed,
    partner: &str,
    ranges: &[(u32, Range)],
    builder: &mut FactsBuilder<'_>,
) -> Result<u64, DataError> {
    let mut own = 0u64;
    for (_, r) in ranges {
        let input = At {
            file: &t.file,
            pos: r.start,
            end: r.end,
        };
        let block = (r.end - r.start).clamp(4096, READ_BLOCK) as usize;
        let mut records = Records::with_block(
            input,
            r.lines_before,
            t.header.dialect.delimiter,
            false,
            block,
        );
        each_record(t.table, &t.path, &t.header, &mut records, |values, loc| {
            if values[PARTNER].trim() == partner {
                own += 1;
            }
            feed(values, loc, builder)
        })?;
    }
    let expected: u64 = ranges.iter().map(|(_, r)| r.own).sum();
    if own != expected {
        return Err(changed(&t.path));
    }
    Ok(own)
}

fn changed(path: &Path) -> DataError {
    DataError::new(
        ErrorKind::Io,
        path,
        "the file changed after it was read (its records are not where they were)",
    )
}

/// Indexes one CSV table file.
/// Ranges of a partner at most `gap` bytes apart are merged, and the gap
/// grows when ranges outnumber four per partner plus `spare`.
fn index_csv(
    table: Table,
    path: &Path,
    dialect: crate::CsvDialect,
    gap: u64,
    spare: usize,
) -> Result<Local, DataError> {
    debug_assert_eq!(columns(table)[PARTNER].name, "partner_id");
    let io = |e: std::io::Error| DataError::new(ErrorKind::Io, path, e.to_string());
    let file = File::open(path).map_err(io)?;
    let input = At {
        file: &file,
        pos: 0,
        end: u64::MAX,
    };
    let mut records = Records::with_block(input, 0, dialect.delimiter, true, READ_BLOCK as usize);
    let header = read_header(table, path, &mut records, dialect)?;
    let col = header.map.index[PARTNER].ok_or_else(|| changed(path))?;
    let mut ids: HashMap<Box<str>, u32> = HashMap::new();
    let mut ranges: Vec<(u32, Range)> = Vec::new();
    // Per partner, its last range in `ranges`.
    let mut last: Vec<usize> = Vec::new();
    let mut gap = gap;
    loop {
        let start = records.offset();
        let lines_before = records.lines();
        if records.next_record(path)?.is_none() {
            break;
        }
        let end = records.offset();
        // A full read of this file refused such records: it changed.
        if col >= records.len() {
            return Err(changed(path));
        }
        let id = std::str::from_utf8(records.field_bytes(col))
            .map_err(|_| changed(path))?
            .trim();
        let p = match ids.get(id) {
            Some(&p) => p as usize,
            None => {
                let p = ids.len();
                ids.insert(id.into(), p as u32);
                last.push(usize::MAX);
                p
            }
        };
        let l = last[p];
        if l != usize::MAX && start.saturating_sub(ranges[l].1.end) <= gap {
            let r = &mut ranges[l].1;
            r.end = end;
            r.own += 1;
            continue;
        }
        last[p] = ranges.len();
        ranges.push((
            p as u32,
            Range {
                start,
                end,
                lines_before,
                own: 1,
            },
        ));
        if ranges.len() > 4 * ids.len() + spare {
            gap = gap.max(1).saturating_mul(4);
            merge(&mut ranges, &mut last, gap);
        }
    }
    Ok(Local {
        table,
        path: path.to_path_buf(),
        file,
        header,
        ids,
        ranges,
    })
}

/// Merges each partner's ranges less than `gap` apart (sorting `ranges` by
/// partner and start) and points `last` at each partner's last range.
fn merge(ranges: &mut Vec<(u32, Range)>, last: &mut [usize], gap: u64) {
    ranges.sort_unstable_by_key(|(p, r)| (*p, r.start));
    let mut out: Vec<(u32, Range)> = Vec::with_capacity(ranges.len() / 2);
    for &(p, r) in ranges.iter() {
        match out.last_mut() {
            Some((q, prev)) if *q == p && r.start.saturating_sub(prev.end) <= gap => {
                prev.end = r.end;
                prev.own += r.own;
            }
            _ => out.push((p, r)),
        }
    }
    for (i, (p, _)) in out.iter().enumerate() {
        last[*p as usize] = i;
    }
    *ranges = out;
}

/// Bytes `pos..end` of a file, read at their offsets (no shared cursor:
/// re-reads of the same file may run side by side).
struct At<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.end - self.pos).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        #[cfg(unix)]
        let got = std::os::unix::fs::FileExt::read_at(self.file, &mut buf[..n], self.pos)?;
        #[cfg(windows)]
        let got = std::os::windows::fs::FileExt::seek_read(self.file, &mut buf[..n], self.pos)?;
        #[cfg(not(any(unix, windows)))]
        let got: usize = {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "reading at an offset",
            ));
        };
        self.pos += got as u64;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::facts::MonthFilter;
    use pcs_core::rulebook::RulebookSet;
    use proptest::prelude::*;

    /// A revenue table whose rows are `rows` (partner, customer name
    /// style, line ending), in that order: quoted commas, quoted line
    /// breaks, CRLF, lone CR, empty lines, padded ids.
    fn revenue(rows: &[(u8, u8, u8)]) -> String {
        let mut out = String::from(
            "partner_id,customer_tenant_id,customer_name,subscription_id,workload,month,revenue_usd,association\n",
        );
        for (i, &(p, name, end)) in rows.iter().enumerate() {
            let name = match name % 5 {
                0 => format!("\"Coho, S.A. {i}\""),
                1 => format!("\"Multi\nline \"\"{i}\"\"\""),
                2 => format!("\"Two\r\nlines {i}\""),
                _ => format!("Customer {i}"),
            };
            let id = if p % 4 == 3 {
                format!(" P{p} ")
            } else {
                format!("P{p}")
            };
            let workload = ["Sales", "Finance", "Portals", "No such"][i % 4];
            let month = ["2023-10", "2022-10", "2023-09"][i % 3];
            let end = ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n"][end as usize % 5];
            out.push_str(&format!(
                "{id},T{},{name},S{i},{workload},{month},{}.{:02},{}{end}",
                i % 7,
                i % 900,
                i % 100,
                ["CSP Tier 1", "DPOR", "PAL"][i % 3]
            ));
        }
        out
    }

    /// Every partner's facts read through the index equal a full read's
    /// (kept to that partner), lines included.
    fn check(text: &str, gap: u64, spare: usize) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revenue.csv");
        std::fs::write(&path, text).unwrap();
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let dataset = Dataset::open(dir.path()).unwrap();
        let full = dataset
            .load(
                rb,
                &crate::LoadOptions {
                    trace: true,
                    threads: 1,
                    ..crate::LoadOptions::default()
                },
            )
            .unwrap();
        let local = index_csv(
            Table::Revenue,
            &path,
            crate::CsvDialect::default(),
            gap,
            spare,
        )
        .unwrap();
        let mut partners = HashMap::new();
        for (id, n) in &local.ids {
            partners.insert(id.clone(), *n);
        }
        let mut ranges = local.ranges;
        ranges.sort_unstable_by_key(|(p, r)| (*p, r.start));
        let index = PartnerIndex {
            partners,
            tables: vec![Indexed {
                table: Table::Revenue,
                path: local.path,
                file: local.file,
                header: local.header,
                ranges,
            }],
        };
        prop_assert_eq!(index.partners(), full.partners.len());
        for (id, facts) in &full.partners {
            let mut b = FactsBuilder::new(rb, MonthFilter::All, true).only_partner(id);
            let rows = index.read(Table::Revenue, id, &mut b).unwrap().unwrap();
            let again = b.finish();
            prop_assert_eq!(again.partners.len(), 1);
            let read = &again.partners[id];
            prop_assert!(read == facts, "{id}: {read:?} != {facts:?}");
            let counted: u64 = read
                .revenue
                .values()
                .map(|a| u64::from(a.rows))
                .sum::<u64>()
                + read
                    .excluded
                    .values()
                    .map(|a| u64::from(a.rows))
                    .sum::<u64>();
            prop_assert_eq!(rows, counted);
        }
        // Not in the table: nothing read.
        let mut b = FactsBuilder::new(rb, MonthFilter::All, true).only_partner("nobody");
        prop_assert_eq!(
            index
                .read(Table::Revenue, "nobody", &mut b)
                .unwrap()
                .unwrap(),
            0
        );
        prop_assert!(index.read(Table::Usage, "P1", &mut b).is_none());
        Ok(())
    }

    #[test]
    fn grouped_rows_make_one_range_per_partner_and_read_as_a_full_read() {
        let rows: Vec<(u8, u8, u8)> = (0..400u32)
            .map(|i| ((i / 50) as u8, (i % 11) as u8, (i % 13) as u8))
            .collect();
        let text = revenue(&rows);
        check(&text, FIRST_GAP, SPARE_RANGES).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("revenue.csv"), &text).unwrap();
        let index = PartnerIndex::build(&Dataset::open(dir.path()).unwrap()).unwrap();
        assert_eq!((index.partners(), index.ranges()), (8, 8));
        assert!(index.heap_bytes() < 4096, "{}", index.heap_bytes());
    }

    #[test]
    fn a_file_changed_in_place_is_an_error_not_other_rows() {
        let rows: Vec<(u8, u8, u8)> = (0..60u32).map(|i| ((i / 20) as u8, 4, 0)).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revenue.csv");
        std::fs::write(&path, revenue(&rows)).unwrap();
        let index = PartnerIndex::build(&Dataset::open(dir.path()).unwrap()).unwrap();
        // Written over in place (not renamed): the same inode, other bytes.
        let shifted = revenue(&rows).replacen("Customer", "A longer customer", 3);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, shifted.as_bytes()))
            .unwrap();
        let set = RulebookSet::builtin();
        let mut b =
            FactsBuilder::new(&set.versions()[0], MonthFilter::All, true).only_partner("P1");
        assert!(index.read(Table::Revenue, "P1", &mut b).unwrap().is_err());
    }

    #[test]
    fn a_renamed_over_file_is_still_read_as_indexed() {
        let rows: Vec<(u8, u8, u8)> = (0..60u32).map(|i| ((i / 20) as u8, 4, 0)).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revenue.csv");
        std::fs::write(&path, revenue(&rows)).unwrap();
        let index = PartnerIndex::build(&Dataset::open(dir.path()).unwrap()).unwrap();
        let staged = dir.path().join("revenue.new");
        std::fs::write(&staged, revenue(&rows[..5])).unwrap();
        std::fs::rename(&staged, &path).unwrap();
        let set = RulebookSet::builtin();
        let mut b =
            FactsBuilder::new(&set.versions()[0], MonthFilter::All, true).only_partner("P1");
        assert_eq!(
            index.read(Table::Revenue, "P1", &mut b).unwrap().unwrap(),
            20
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Rows in any order, ranges merged with any gap and budget: a
        /// partner's rows read through the index are a full read's.
        #[test]
        fn any_order_reads_as_a_full_read(
            rows in proptest::collection::vec((0u8..9, 0u8..11, 0u8..5), 1..120),
            gap in prop_oneof![Just(0u64), Just(64u64), Just(FIRST_GAP)],
            spare in prop_oneof![Just(0usize), Just(3usize), Just(SPARE_RANGES)],
        ) {
            check(&revenue(&rows), gap, spare)?;
        }
    }
}
