import categoryData from './categories.json' with { type: 'json' };

/** The configurable category tree and problem-type list (data in categories.json). */

export interface CategoryNode {
  code: string;
  name: string;
  children?: CategoryNode[];
}

export interface CategoryConfig {
  categories: CategoryNode[];
  problemTypes: { code: string; name: string }[];
}

export interface CategoryInfo {
  code: string;
  path: string[];
  leaf: boolean;
}

export class Categories {
  private readonly byCode = new Map<string, CategoryInfo>();
  private readonly problems = new Map<string, string>();

  constructor(readonly config: CategoryConfig = categoryData as CategoryConfig) {
    const walk = (nodes: CategoryNode[], path: string[], parent?: string) => {
      for (const n of nodes) {
        if (!/^[A-Za-z0-9_-]{1,32}$/.test(n.code)) throw new Error(`bad category code ${JSON.stringify(n.code)}`);
        if (this.byCode.has(n.code)) throw new Error(`duplicate category code ${n.code}`);
        // List filters select a subtree by code prefix, so a child's code must extend its parent's.
        if (parent && !n.code.startsWith(parent)) throw new Error(`category ${n.code} does not extend ${parent}`);
        const p = [...path, n.name];
        this.byCode.set(n.code, { code: n.code, path: p, leaf: !n.children?.length });
        if (n.children) walk(n.children, p, n.code);
      }
    };
    walk(config.categories, []);
    for (const p of config.problemTypes) this.problems.set(p.code, p.name);
  }

  get(code: string): CategoryInfo | null {
    return this.byCode.get(code) ?? null;
  }

  problemTypeName(code: string): string | null {
    return this.problems.get(code) ?? null;
  }
}

let shared: Categories | null = null;
export function defaultCategories(): Categories {
  shared ??= new Categories();
  return shared;
}
