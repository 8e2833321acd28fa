"""audit sealing and case attachments

The audit log is written without a lock and sealed just after (portal.audit):
``chain_pos`` orders the sealed chain, ``prev_hash``/``hash`` stay empty until a row is sealed,
and the head remembers the sealed count. Rows written before this revision already form a
chain in ``seq`` order with no gaps, so their position is their seq and their hashes stay valid.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 06:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import portal.models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_pos', sa.Integer(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_chain_pos'), ['chain_pos'])
    op.execute("UPDATE audit_event SET chain_pos = seq")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_pos', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE audit_head SET last_pos = last_seq")
    if op.get_bind().dialect.name == 'postgresql':
        # seq was always given explicitly before; the database hands it out from now on.
        op.execute("SELECT setval(pg_get_serial_sequence('audit_event', 'seq'), "
                   "(SELECT coalesce(max(seq), 0) + 1 FROM audit_event), false)")

    op.create_table('case_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['queue_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachment_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachment_case_id'))
    op.drop_table('case_attachment')
    unsealed = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_event WHERE chain_pos IS NULL")).scalar()
    if unsealed:
        # Unsealed rows have no hash yet and the old shape needs one; never drop audit rows to get there.
        raise RuntimeError(f"{unsealed} audit events are not sealed: run `portal audit seal` first")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('last_pos')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_chain_pos'), type_='unique')
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
                              nullable=False)
        batch_op.drop_column('chain_pos')
