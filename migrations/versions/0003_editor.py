"""knowledge editor: working copies, append-only audit log, gap triage, feedback kind

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

APPEND_ONLY = "audit log is append-only"


def upgrade() -> None:
    op.create_table('entry_drafts',
    sa.Column('entry_id', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=True),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('submitted_by', sa.String(length=80), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('entry_id')
    )
    with op.batch_alter_table('entry_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_drafts_state'), ['state'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_entry_id'), ['entry_id'], unique=False)

    # The database itself refuses to change or delete audit records, whoever asks.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )

    with op.batch_alter_table('gaps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('handled_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('handled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_entry', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_gaps_status'), ['status'], unique=False)

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='answer', nullable=False))
    # Before 0003 a conversation rating (1–5) and an answer rating (0/1) shared one column.
    op.execute("UPDATE feedback SET kind = 'conversation' WHERE rating > 1")


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('gaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gaps_status'))
        batch_op.drop_column('resolved_entry')
        batch_op.drop_column('handled_at')
        batch_op.drop_column('handled_by')
        batch_op.drop_column('status')

    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table('audit_log')

    with op.batch_alter_table('entry_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_drafts_state'))
    op.drop_table('entry_drafts')
