//! Tables of typed columns written as one Parquet file through parquet's own column writers,
//! without Arrow (whose crates were a fifth of a fresh build's compile time). Each column gets
//! the logical type Arrow would give it, so pandas, polars and DuckDB read UTF-8 strings,
//! unsigned 32-bit integers, doubles, booleans and UTC microsecond timestamps as before.
use std::fs::File;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

/// A column's values; `None` is a null, allowed only in a nullable column.
pub enum Values<'a> {
    Text(Vec<Option<&'a str>>),
    U32(Vec<Option<u32>>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(Vec<i64>),
}

pub struct Column<'a> {
    pub name: &'a str,
    pub nullable: bool,
    pub values: Values<'a>,
}

impl<'a> Column<'a> {
    pub fn text(name: &'a str, values: Vec<Option<&'a str>>, nullable: bool) -> Column<'a> {
        Column { name, nullable, values: Values::Text(values) }
    }

    pub fn u32(name: &'a str, values: Vec<Option<u32>>, nullable: bool) -> Column<'a> {
        Column { name, nullable, values: Values::U32(values) }
    }

    pub fn f64(name: &'a str, values: Vec<f64>) -> Column<'a> {
        Column { name, nullable: false, values: Values::F64(values) }
    }

    pub fn bool(name: &'a str, values: Vec<bool>) -> Column<'a> {
        Column { name, nullable: false, values: Values::Bool(values) }
    }

    pub fn timestamp(name: &'a str, values: Vec<i64>) -> Column<'a> {
        Column { name, nullable: false, values: Values::Timestamp(values) }
    }

    fn field(&self) -> parquet::errors::Result<Type> {
        let (physical, logical) = match self.values {
            Values::Text(_) => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            Values::U32(_) => (Physical::INT32, Some(LogicalType::integer(32, false))),
            Values::F64(_) => (Physical::DOUBLE, None),
            Values::Bool(_) => (Physical::BOOLEAN, None),
            Values::Timestamp(_) => {
                (Physical::INT64, Some(LogicalType::timestamp(true, TimeUnit::MICROS)))
            }
        };
        let repetition = if self.nullable { Repetition::OPTIONAL } else { Repetition::REQUIRED };
        Type::primitive_type_builder(self.name, physical)
            .with_repetition(repetition)
            .with_logical_type(logical)
            .build()
    }

    fn len(&self) -> usize {
        match &self.values {
            Values::Text(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Timestamp(v) => v.len(),
        }
    }
}

/// Writes `columns`, all of one length, as one row group.
pub fn write(file: File, columns: &[Column]) -> anyhow::Result<()> {
    let rows = columns.first().map_or(0, Column::len);
    if let Some(column) = columns.iter().find(|c| c.len() != rows) {
        anyhow::bail!("column `{}` has {} rows, not {rows}", column.name, column.len());
    }
    let fields = columns.iter().map(|c| c.field().map(Arc::new)).collect::<Result<_, _>>()?;
    let schema = Type::group_type_builder("schema").with_fields(fields).build()?;
    let properties = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), properties)?;
    let mut group = writer.next_row_group()?;
    for column in columns {
        let mut chunk = group.next_column()?.expect("one chunk per schema field");
        match (chunk.untyped(), &column.values) {
            (ColumnWriter::ByteArrayColumnWriter(w), Values::Text(values)) => {
                let (present, levels) = split_nulls(column, values)?;
                let bytes: Vec<ByteArray> = present.into_iter().map(ByteArray::from).collect();
                w.write_batch(&bytes, levels.as_deref(), None)?;
            }
            (ColumnWriter::Int32ColumnWriter(w), Values::U32(values)) => {
                let (present, levels) = split_nulls(column, values)?;
                // Parquet stores unsigned 32-bit integers in INT32, bit for bit.
                let bits: Vec<i32> = present.into_iter().map(|v| v as i32).collect();
                w.write_batch(&bits, levels.as_deref(), None)?;
            }
            (ColumnWriter::DoubleColumnWriter(w), Values::F64(values)) => {
                w.write_batch(values, None, None)?;
            }
            (ColumnWriter::BoolColumnWriter(w), Values::Bool(values)) => {
                w.write_batch(values, None, None)?;
            }
            (ColumnWriter::Int64ColumnWriter(w), Values::Timestamp(values)) => {
                w.write_batch(values, None, None)?;
            }
            _ => unreachable!("the schema's physical type follows the values"),
        }
        chunk.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}

/// The values that are not null, and the definition levels of a nullable column (1: present).
fn split_nulls<T: Copy>(
    column: &Column,
    values: &[Option<T>],
) -> anyhow::Result<(Vec<T>, Option<Vec<i16>>)> {
    if !column.nullable {
        let present: Option<Vec<T>> = values.iter().copied().collect();
        let present = present.ok_or_else(|| {
            anyhow::anyhow!("column `{}` is not nullable but has a null", column.name)
        })?;
        return Ok((present, None));
    }
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    Ok((values.iter().filter_map(|v| *v).collect(), Some(levels)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    #[test]
    fn columns_read_back_with_their_types_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let columns = [
            Column::text("name", vec![Some("a"), Some("b")], false),
            Column::text("class", vec![None, Some("G")], true),
            Column::u32("epoch", vec![Some(3_000_000_000), None], true),
            Column::f64("value", vec![0.5, -1.0]),
            Column::timestamp("at", vec![42, 43]),
        ];
        write(File::create(&path).unwrap(), &columns).unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let logical: Vec<_> =
            schema.columns().iter().map(|c| c.logical_type_ref().cloned()).collect();
        assert_eq!(logical[2], Some(LogicalType::integer(32, false)));
        assert_eq!(logical[4], Some(LogicalType::timestamp(true, TimeUnit::MICROS)));
        let rows: Vec<Vec<Field>> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|row| row.unwrap().get_column_iter().map(|(_, f)| f.clone()).collect())
            .collect();
        assert_eq!(
            rows[0],
            [
                Field::Str("a".into()),
                Field::Null,
                Field::UInt(3_000_000_000),
                Field::Double(0.5),
                Field::TimestampMicros(42)
            ]
        );
        assert_eq!(rows[1][1], Field::Str("G".into()));
        assert_eq!(rows[1][2], Field::Null);
        let nulls = [Column::text("name", vec![None], false)];
        let err = write(File::create(&path).unwrap(), &nulls).unwrap_err().to_string();
        assert!(err.contains("`name` is not nullable"), "{err}");
    }
}
