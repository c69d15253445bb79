//! `llm_prompt_templates` (Prompt模板表): templates with `{variable}` placeholders.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_prompt_templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub config_id: i32,
    pub template_name: String,
    pub template_content: String,
    /// JSON array of the placeholder names, in order of first appearance.
    pub variables: Option<Json>,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
